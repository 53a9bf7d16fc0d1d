"""PyMAF-X as exported programs: three encoders and one head, together the whole model.

``torch.export`` turns each into an ``ExportedProgram`` with a free number of people and of hand
crops; that program is the single source every backend compiles (ONNX for ONNX Runtime and
OpenVINO, and Torch-TensorRT's input). The cut at the encoder outputs is deliberate:

* the encoders are the only part that may run in bf16/fp16 (rotations, regressors and skinning
  stay fp32: global bf16 breaks the feature sampler's index arithmetic), so each side gets its
  own precision without per-node annotations;
* with no visible hand the hand encoder is simply not called (OpenVINO rejects an empty batch
  in its pooling layers, and it is wasted work anyway);
* one set of encoder programs serves every output profile of the head.

Head inputs: the nine pyramid maps, ``hand_rows`` [B,2] int64, ``vis_hands`` [B,2] float32 and
``predict_visibility`` (0-d bool), as in ``PyMAFX.refine``; outputs: the final mesh's tensors in
``head_output_names`` order.
"""

from __future__ import annotations

import logging
import time

import torch
from torch import nn
from torch.export import Dim, ExportedProgram

from pymafx_ros.backends.export.phase_deconv import with_phase_deconvolutions
from pymafx_ros.model.folded_step import fold_steps
from pymafx_ros.model.output_profile import OutputProfile
from pymafx_ros.model.pymafx_net import BODY_LEVEL_CHANNELS, PART_LEVEL_CHANNELS, PyMAFX

LOG = logging.getLogger(__name__)

ENCODER_PARTS = ("body", "hand", "face")
# Encoders with deconvolutions (PoseResNet); the body's HRNet has none.
DECONVOLUTION_PARTS = ("hand", "face")
CROP_SIZE = 224
# Feature-map sizes of the three pyramid levels (coarse to fine) for a 224 px crop.
LEVEL_SIZES = (14, 28, 56)
# Sizes the programs are exported for (TensorRT needs bounds; ONNX/OpenVINO keep them free).
MAX_PEOPLE = 64
MAX_HAND_ROWS = 2 * MAX_PEOPLE
HEAD_CONTROL_INPUTS = ("hand_rows", "vis_hands", "predict_visibility")


def map_input_names(part: str) -> tuple[str, ...]:
    """Names of a part's three pyramid maps as head inputs, e.g. ``body_map0``."""
    return tuple(f"{part}_map{level}" for level in range(len(LEVEL_SIZES)))


HEAD_INPUTS = (
    *(name for part in ENCODER_PARTS for name in map_input_names(part)),
    *HEAD_CONTROL_INPUTS,
)


def program_name(part_or_head: str, profile: OutputProfile | None = None) -> str:
    """``body_encoder`` / ``hand_encoder`` / ``face_encoder`` or ``head_<profile>``."""
    return f"{part_or_head}_encoder" if profile is None else f"head_{profile}"


class EncoderProgram(nn.Module):
    """One expert's encoder: crops [N,3,224,224] -> its three pyramid maps (coarse first)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.encoder(image))


class HeadProgram(nn.Module):
    """Feedback loop, hand integration and final SMPL-X on encoder maps (``PyMAFX.refine``).

    The network is held as a plain attribute, not a submodule: exporting then keeps as
    constants only the tensors the head reads, not the encoders' weights or the unused
    checkpoint entries. Fusion and regressor layers run folded (``FoldedStep``): the head then
    reads less than half the weights per frame.
    """

    def __init__(self, model: PyMAFX, profile: OutputProfile, folded: bool = True) -> None:
        super().__init__()
        self.__dict__["model"] = model
        self.steps = (
            fold_steps(model.regressor, model.att_feat_reduce, model_device(model))
            if folded
            else None
        )
        self.profile = profile
        self.output_names: tuple[str, ...] = ()

    def run(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The named final outputs for inputs in ``HEAD_INPUTS`` order."""
        maps = inputs[:9]
        hand_rows, vis_hands, predict_visibility = inputs[9:]
        pyramids = {part: list(maps[3 * i : 3 * i + 3]) for i, part in enumerate(ENCODER_PARTS)}
        return self.model.refine(
            pyramids,
            hand_rows,
            vis_hands,
            predict_visibility,
            self.profile,
            steps=self.steps,
        )[-1]

    def forward(
        self,
        body_map0: torch.Tensor,
        body_map1: torch.Tensor,
        body_map2: torch.Tensor,
        hand_map0: torch.Tensor,
        hand_map1: torch.Tensor,
        hand_map2: torch.Tensor,
        face_map0: torch.Tensor,
        face_map1: torch.Tensor,
        face_map2: torch.Tensor,
        hand_rows: torch.Tensor,
        vis_hands: torch.Tensor,
        predict_visibility: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        out = self.run(
            body_map0, body_map1, body_map2, hand_map0, hand_map1, hand_map2,
            face_map0, face_map1, face_map2, hand_rows, vis_hands, predict_visibility,
        )  # fmt: skip
        return tuple(out[name] for name in self.output_names)


def example_head_inputs(
    people: int = 2, hand_rows: int = 3, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, ...]:
    """Head inputs of the right shapes (random maps, valid rows) on ``device``, for tracing
    and tests."""
    generator = torch.Generator().manual_seed(0)
    maps = []
    for part, count in (("body", people), ("hand", hand_rows), ("face", people)):
        channels = BODY_LEVEL_CHANNELS if part == "body" else PART_LEVEL_CHANNELS
        for width, size in zip(channels, LEVEL_SIZES, strict=True):
            maps.append(torch.rand(count, width, size, size, generator=generator))
    rows = torch.arange(2 * people).reshape(people, 2) % (hand_rows + 1)
    vis = torch.rand(people, 2, generator=generator)
    return tuple(t.to(device) for t in (*maps, rows, vis, torch.tensor(False)))


def model_device(model: PyMAFX) -> torch.device:
    """Where the model's weights live: programs are exported there (a GPU's engines are
    compiled from programs whose constants are on that GPU)."""
    return next(model.parameters()).device


def head_output_names(
    model: PyMAFX, profile: OutputProfile
) -> tuple[tuple[str, ...], dict[str, str]]:
    """(program outputs, aliases) of a head profile. A program output is one distinct tensor;
    names that the release gives the same tensor (``kp_3d`` is ``pred_joints``) are aliases
    {alias: program output}, restored by the backend."""
    # The layers give the same output names; folding (seconds) is for the exported head only.
    head = HeadProgram(model, profile, folded=False)
    with torch.inference_mode():
        out = head.run(*example_head_inputs(1, 2, model_device(model)))
    names: list[str] = []
    aliases: dict[str, str] = {}
    for name in sorted(out):
        first = next((kept for kept in names if out[kept] is out[name]), None)
        if first is None:
            names.append(name)
        else:
            aliases[name] = first
    return tuple(names), aliases


def export_encoder(
    model: PyMAFX, part: str, phase_deconvolutions: bool = False
) -> ExportedProgram:
    """``torch.export`` of one encoder of the plain (not prepared) model, free batch size;
    ``phase_deconvolutions``: its deconvolutions as ``PhaseDeconvolution``s (for bf16 CPUs)."""
    if model.prepared_for_inference:
        raise ValueError(
            "export the model as loaded: prepare_for_inference() packs CPU-only weights"
        )
    batch = Dim(f"{part}_crops", min=1, max=MAX_HAND_ROWS)
    example = torch.zeros(2, 3, CROP_SIZE, CROP_SIZE, device=model_device(model))
    start = time.perf_counter()
    encoder = model.encoders[part]
    if phase_deconvolutions:
        encoder = with_phase_deconvolutions(encoder)
    with torch.no_grad():
        program = torch.export.export(
            EncoderProgram(encoder).eval(), (example,), dynamic_shapes=({0: batch},)
        )
    LOG.info("exported %s in %.1f s", program_name(part), time.perf_counter() - start)
    return program


def export_head(
    model: PyMAFX, profile: OutputProfile
) -> tuple[ExportedProgram, tuple[str, ...], dict[str, str]]:
    """``torch.export`` of the head for an output profile -> (program, output names, aliases;
    see ``head_output_names``). People and hand rows are free dimensions (hand rows may be
    0)."""
    if model.prepared_for_inference:
        raise ValueError(
            "export the model as loaded: prepare_for_inference() packs CPU-only weights"
        )
    head = HeadProgram(model, profile).eval()
    head.output_names, aliases = head_output_names(model, profile)
    people = Dim("people", min=1, max=MAX_PEOPLE)
    hands = Dim("hand_rows", min=0, max=MAX_HAND_ROWS)
    shapes = [{0: people}] * 3 + [{0: hands}] * 3 + [{0: people}] * 3
    shapes += [{0: people}, {0: people}, None]
    start = time.perf_counter()
    with torch.no_grad():
        program = torch.export.export(
            head, example_head_inputs(2, 3, model_device(model)), dynamic_shapes=tuple(shapes)
        )
    LOG.info("exported %s in %.1f s", program_name("head", profile), time.perf_counter() - start)
    return program, head.output_names, aliases
