"""The ``torch_compile`` backend: the model compiled by ``torch.compile`` (inductor), typed as
the TensorRT engines are, without TensorRT.

* CUDA: fp16 encoders (fp32 crops in, fp32 maps out) and the fp32 head with TF32 off
  (``precision: fp16``, its ``auto``), or everything fp32; Triton kernels replayed as CUDA graphs
  (``mode="reduce-overhead"``);
* CPU: fp32, inductor's C++ kernels.

Shapes are static per batch *bucket* (1, 2, 4, ... up to ``max_people`` people; the hand
encoder's up to twice that, the head always at two hand rows per person): a batch is padded to
its bucket with rows that nothing reads (zero crops, hands "not run", visibility 0) and the
outputs are cut back, so a handful of graphs serve every frame and CUDA graphs apply.
``prepare`` compiles every bucket up front (minutes on a first start; inductor's own caches
under the artefact cache make later starts faster).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from pymafx_ros.backends.artefact_cache import default_cache_dir
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.programs import (
    ENCODER_PARTS,
    LEVEL_SIZES,
    HeadProgram,
    head_output_names,
)
from pymafx_ros.backends.export.typed_programs import TypedEncoder
from pymafx_ros.backends.interface import Backend, check_profile
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.model.face_expert import absent_face_maps
from pymafx_ros.model.hand_rows import (
    hands_to_run,
    release_visibility,
    select_hands,
    visibility_inputs,
    without_hands,
)
from pymafx_ros.model.output_profile import PROFILE_NAMES
from pymafx_ros.model.pymafx_net import PART_LEVEL_CHANNELS, PyMAFX

LOG = logging.getLogger(__name__)

COMPILE_PRECISIONS = ("fp32", "fp16")
# A compile step: module -> callable (torch.compile in use; tests may pass the module back).
Compile = Callable[[nn.Module, bool], Callable[..., Any]]


def batch_buckets(largest: int) -> tuple[int, ...]:
    """Batch sizes compiled for up to ``largest``: powers of two below it, then itself."""
    if largest < 1:
        raise ValueError(f"the largest batch must be >= 1, got {largest}")
    sizes = [1]
    while sizes[-1] * 2 < largest:
        sizes.append(sizes[-1] * 2)
    return tuple(sorted({*sizes, largest}))


def bucket_of(size: int, buckets: tuple[int, ...]) -> int:
    """The smallest bucket that holds ``size`` rows."""
    for bucket in buckets:
        if size <= bucket:
            return bucket
    raise ValueError(f"{size} rows exceed the largest compiled batch {buckets[-1]} (max_people)")


def pad_rows(tensor: Tensor, rows: int, fill: float | int = 0) -> Tensor:
    """[N, ...] -> [rows, ...] with ``fill`` in the added rows (``tensor`` when N == rows)."""
    missing = rows - tensor.shape[0]
    if missing == 0:
        return tensor
    extra = tensor.new_full((missing, *tensor.shape[1:]), fill)
    return torch.cat([tensor, extra])


def inductor(module: nn.Module, cuda_graphs: bool) -> Callable[..., Any]:
    """``torch.compile`` with inductor, static shapes, CUDA graphs when asked."""
    mode = "reduce-overhead" if cuda_graphs else None
    return torch.compile(module, backend="inductor", mode=mode, dynamic=False, fullgraph=True)


class TorchCompileBackend(Backend):
    """``PyMAFX.predict`` through inductor-compiled encoders and head (see the module doc)."""

    name = "torch_compile"

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        max_people: int = 1,
        compile_step: Compile = inductor,
        warm_up: bool = True,
    ) -> None:
        if precision not in COMPILE_PRECISIONS:
            raise BackendUnavailableError(
                f"backend torch_compile runs fp16 (CUDA: fp16 encoders, fp32 head) or fp32, "
                f"not {precision}"
            )
        super().__init__(precision, cpu)
        if model.training:
            raise ValueError("TorchCompileBackend: call model.eval() first")
        if model.prepared_for_inference:
            raise ValueError("torch_compile compiles the model as loaded, not prepared")
        self.device = next(model.parameters()).device
        if precision == "fp16" and self.device.type != "cuda":
            raise BackendUnavailableError(
                "precision fp16 of backend torch_compile runs on CUDA only; use fp32 on the CPU"
            )
        self.model = model
        self.max_people = max_people
        self.people = batch_buckets(max_people)
        self.hand_rows = batch_buckets(2 * max_people)
        self.cuda_graphs = self.device.type == "cuda"
        self._compile = compile_step
        self._warm_up = warm_up
        _use_project_cache()
        # Each bucket of each stage is one compiled graph of the same forward code; dynamo
        # stops recompiling a code object after recompile_limit graphs (default 8).
        needed = (
            len(ENCODER_PARTS) * len(self.hand_rows) + len(PROFILE_NAMES) * len(self.people) + 1
        )
        config = torch._dynamo.config
        config.recompile_limit = max(config.recompile_limit, needed)
        dtype = torch.float16 if precision == "fp16" else torch.float32
        self.encoders = {
            part: compile_step(TypedEncoder(model.encoders[part], dtype).eval(), self.cuda_graphs)
            for part in ENCODER_PARTS
        }
        self._heads: dict[str, tuple[Callable[..., Any], tuple[str, ...], dict[str, str]]] = {}

    def prepare(self, profile: str) -> None:
        """Compile the head of ``profile`` and every bucket of every stage (minutes the first
        time; a new shape later would compile in the middle of a frame)."""
        if check_profile(profile) in self._heads:
            return
        start = time.perf_counter()
        head = HeadProgram(self.model, profile).eval()
        head.output_names, aliases = head_output_names(self.model, profile)
        self._heads[profile] = (self._compile(head, self.cuda_graphs), head.output_names, aliases)
        if not self._warm_up:  # each bucket then compiles on its first frame
            return
        crops = torch.zeros(2 * self.max_people, 3, 224, 224, device=self.device)
        with torch.inference_mode(), _NoTf32():
            for rows in self.hand_rows:
                self._step_begin()
                self.encoders["hand"](crops[:rows])
            for people in self.people:
                self._step_begin()
                maps = self._maps(crops[:people], crops[:0], crops[:people], people)
                rows = torch.full((people, 2), 2 * people, device=self.device)
                flag = torch.tensor(False, device=self.device)
                faces = torch.ones(people, dtype=torch.bool, device=self.device)
                self._heads[profile][0](*maps, rows, crops.new_zeros(people, 2), flag, faces)
        LOG.info(
            "torch_compile %s (%s) compiled in %.1f s: people buckets %s, hand rows %s",
            profile,
            self.precision,
            time.perf_counter() - start,
            self.people,
            self.hand_rows,
        )

    def _step_begin(self) -> None:
        if self.cuda_graphs:  # the previous call's graph outputs may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()

    def _maps(
        self, body: Tensor, hand_images: Tensor, face: Tensor | None, people: int
    ) -> list[Tensor]:
        """The nine maps for ``people`` padded people and 2*``people`` hand rows (zero face
        maps without face crops: the face encoder is not called)."""
        maps = list(self.encoders["body"](pad_rows(body, people)))
        count = hand_images.shape[0]
        if count:
            hand_maps = self.encoders["hand"](
                pad_rows(hand_images, bucket_of(count, self.hand_rows))
            )
        else:  # no hand to run (known on the host): no encoder call, zero maps
            hand_maps = [
                body.new_zeros(1, width, size, size)
                for width, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
            ]
        # The head is compiled for two hand rows per padded person: rows past the encoder's
        # are zero maps no person points to.
        maps += [pad_rows(level, 2 * people) for level in hand_maps]
        if face is None:
            return maps + absent_face_maps(people, hand_maps)
        return maps + list(self.encoders["face"](pad_rows(face, people)))

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
        if check_profile(profile) not in self._heads:
            self.prepare(profile)
        head, outputs, aliases = self._heads[profile]
        if img_lhand is None or img_rhand is None:  # no hand expert (``PyMAFX.predict``)
            img_lhand, img_rhand, vis_lhand, vis_rhand = without_hands(
                img_body, img_lhand, img_rhand
            )
            run_hidden_hands = False
        crops = [c.to(self.device, non_blocking=True) for c in (img_body, img_lhand, img_rhand)]
        body, lhand, rhand = crops
        face = None if img_face is None else img_face.to(self.device, non_blocking=True)
        batch = body.shape[0]
        people = bucket_of(batch, self.people)
        given = vis_lhand is not None
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, body)
        run = hands_to_run(vis_lhand, vis_rhand, batch, everyone=run_hidden_hands)
        with torch.inference_mode(), _NoTf32():
            self._step_begin()
            hands = select_hands(lhand, rhand, run)
            maps = self._maps(body, hands.images, face, people)
            # "Not run" is the row past the last: it moves from the selection's count to the
            # padded count, and the padded people point there too.
            not_run = 2 * people
            rows = torch.where(hands.rows == hands.images.shape[0], not_run, hands.rows)
            rows = pad_rows(rows, people, not_run)
            run_face = torch.full((people,), face is not None, device=self.device)
            results = head(*maps, rows, pad_rows(vis_hands, people), predict_visibility, run_face)
            # Cut the padding off; clone: CUDA graph outputs are reused by the next call.
            out = {
                name: value[:batch].clone() if value.dim() and value.shape[0] == people else value
                for name, value in zip(outputs, results, strict=True)
            }
        out.update({alias: out[name] for alias, name in aliases.items()})
        release_visibility(out, given)
        return BackendOutput.from_mesh(out)

    def describe(self) -> dict[str, str]:
        return {
            **super().describe(),
            "device": str(self.device),
            "compiled": f"inductor, CUDA graphs {str(self.cuda_graphs).lower()}, buckets people "
            f"{self.people}, hand rows {self.hand_rows}",
        }


class _NoTf32:
    """TF32 off inside: fp32 means fp32 (the head's rotations and skinning), as TensorRT's
    ``disable_tf32``."""

    def __enter__(self) -> None:
        self.saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False

    def __exit__(self, *exc: object) -> None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


def _use_project_cache() -> None:
    """Inductor's compiled kernels and graphs go under the project's cache (unless the user
    chose a folder): a restart reuses them instead of compiling again."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(default_cache_dir() / "inductor"))
