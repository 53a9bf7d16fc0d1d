"""Eager PyTorch: the model itself, prepared for inference (folded BNs, packed oneDNN weights on
CPU). bf16 runs the three encoders in bfloat16 and everything after them in float32; fp16
(CUDA only) the same in float16."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.interface import Backend, check_profile
from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.model.pymafx_net import PyMAFX


class Bf16Encoder(nn.Module):
    """An encoder computing in bfloat16 (or ``dtype``) on float32 crops; float32 maps out."""

    def __init__(self, encoder: nn.Module, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        self.encoder = encoder.to(dtype)
        self.dtype = dtype

    def forward(self, image: Tensor) -> list[Tensor]:
        return [level.float() for level in self.encoder(image.to(self.dtype))]


class TorchBackend(Backend):
    """``PyMAFX.predict`` in eager PyTorch on the model's device (CPU or CUDA)."""

    name = "torch"

    def __init__(self, model: PyMAFX, precision: str, cpu: CpuFeatures) -> None:
        super().__init__(precision, cpu)
        if model.training:
            raise ValueError("TorchBackend: call model.eval() first")
        model.prepare_for_inference()
        if precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if precision == "bf16" else torch.float16
            for part in list(model.encoders):
                model.encoders[part] = Bf16Encoder(model.encoders[part], dtype)
        self.model = model

    def prepare(self, profile: str) -> None:
        check_profile(profile)

    def predict(
        self,
        img_body: Tensor,
        img_lhand: Tensor | None,
        img_rhand: Tensor | None,
        img_face: Tensor | None,
        vis_lhand: Tensor | None = None,
        vis_rhand: Tensor | None = None,
        profile: str = "joints",
        run_hidden_hands: bool = False,
    ) -> BackendOutput:
        with torch.inference_mode():
            mesh = self.model.predict(
                img_body,
                img_lhand,
                img_rhand,
                img_face,
                vis_lhand,
                vis_rhand,
                profile=check_profile(profile),
                run_hidden_hands=run_hidden_hands,
            )
        return BackendOutput.from_mesh(mesh)

    def describe(self) -> dict[str, str]:
        device = next(self.model.parameters()).device
        return {**super().describe(), "device": str(device)}
