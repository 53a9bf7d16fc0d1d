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

Head inputs: the nine pyramid maps, ``hand_rows`` [B,2] int64, ``vis_hands`` [B,2] float32,
``predict_visibility`` (0-d bool) and ``run_face`` [B] bool, as in ``PyMAFX.refine``; outputs:
the final mesh's tensors in ``head_output_names`` order. Without the face expert the face
encoder is not called and the head gets zero face maps with ``run_face`` False: one head serves
both (the face branch's few head milliseconds run on zeros and are held out of every output,
``face_expert.hold_face``), so no second head is exported, cached or compiled.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import torch
import torch.fx.experimental._config as fx_config
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
# A batch dimension's (min, opt, max). The CPU programs keep the sizes free: people 1..64 and
# hand rows 0..128 (example sizes 2 and 3); the TensorRT programs are bounded by max_people
# (``batch_ranges``) because Torch-TensorRT takes each engine's profile from these ranges.
BatchRange = tuple[int, int, int]
FREE_PEOPLE: BatchRange = (1, 2, MAX_PEOPLE)
FREE_HAND_ROWS: BatchRange = (0, 3, MAX_HAND_ROWS)
FREE_CROPS: BatchRange = (1, 2, MAX_HAND_ROWS)
HEAD_CONTROL_INPUTS = ("hand_rows", "vis_hands", "predict_visibility", "run_face")


def batch_ranges(max_people: int, head: bool = False) -> tuple[BatchRange, BatchRange]:
    """(people, hand rows) of an engine for up to ``max_people``: people 1/1/N (the head's
    1/2/N, ``head``), hands 1/2/2N (one person with both hands visible is the common case)."""
    if not 1 <= max_people <= MAX_PEOPLE:
        raise ValueError(f"max_people must lie in [1, {MAX_PEOPLE}], got {max_people}")
    # The head cannot be exported at 1 person with a dynamic batch: torch's own matmul and
    # cat decompositions guard on a size of 1 and specialise it. So its engine is tuned for 2
    # (opt only picks TensorRT's kernels; every size in 1..N runs).
    people = (1, min(2, max_people) if head else 1, max_people)
    # TensorRT cannot build a profile whose smallest batch is 0 (no_hand_inputs pads one row).
    return people, (1, min(2, 2 * max_people), 2 * max_people)


def batch_dim(name: str, batch: BatchRange) -> Any:
    """The ``torch.export`` dimension of ``batch`` (``Dim.STATIC`` when min == max)."""
    low, _, high = batch
    return Dim.STATIC if low == high else Dim(name, min=low, max=high)


@contextlib.contextmanager
def keep_size_one_dynamic(*batches: BatchRange) -> Iterator[None]:
    """Trace (export, or Torch-TensorRT's lowering) where dynamic batches have a size-1
    example: it stays a dynamic dimension."""
    # torch.export specialises a size-1 example to the constant 1 (0/1 specialisation); the
    # example size is what Torch-TensorRT tunes an engine for (its "opt"), and 1 person is
    # the common case. Size-oblivious reasoning keeps such a dimension symbolic (the graph is
    # then valid for every size in its range, which the tests check at both ends). Torch-
    # TensorRT re-traces the program while lowering it, so its compile call needs this too:
    # without it, the dry run shows an encoder for 1..3 people built for exactly 1.
    if any(low < high and opt == 1 for low, opt, high in batches):
        with fx_config.patch(backed_size_oblivious=True):
            yield
    else:
        yield


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
        hand_rows, vis_hands, predict_visibility, run_face = inputs[9:]
        pyramids = {part: list(maps[3 * i : 3 * i + 3]) for i, part in enumerate(ENCODER_PARTS)}
        return self.model.refine(
            pyramids,
            hand_rows,
            vis_hands,
            predict_visibility,
            self.profile,
            steps=self.steps,
            run_face=run_face,
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
        run_face: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        out = self.run(
            body_map0, body_map1, body_map2, hand_map0, hand_map1, hand_map2,
            face_map0, face_map1, face_map2, hand_rows, vis_hands, predict_visibility, run_face,
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
    run_face = torch.ones(people, dtype=torch.bool)
    return tuple(t.to(device) for t in (*maps, rows, vis, torch.tensor(False), run_face))


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
    model: PyMAFX,
    part: str,
    phase_deconvolutions: bool = False,
    crops: BatchRange = FREE_CROPS,
) -> ExportedProgram:
    """``torch.export`` of one encoder of the plain (not prepared) model, [N,3,224,224] -> its
    maps with N in ``crops`` (min, opt = the example, max); ``phase_deconvolutions``: its
    deconvolutions as ``PhaseDeconvolution``s (for bf16 CPUs)."""
    if model.prepared_for_inference:
        raise ValueError(
            "export the model as loaded: prepare_for_inference() packs CPU-only weights"
        )
    batch = batch_dim(f"{part}_crops", crops)
    example = torch.zeros(crops[1], 3, CROP_SIZE, CROP_SIZE, device=model_device(model))
    start = time.perf_counter()
    encoder = model.encoders[part]
    if phase_deconvolutions:
        encoder = with_phase_deconvolutions(encoder)
    with torch.no_grad(), keep_size_one_dynamic(crops):
        program = torch.export.export(
            EncoderProgram(encoder).eval(), (example,), dynamic_shapes=({0: batch},)
        )
    LOG.info("exported %s in %.1f s", program_name(part), time.perf_counter() - start)
    return program


def export_head(
    model: PyMAFX,
    profile: OutputProfile,
    people: BatchRange = FREE_PEOPLE,
    hand_rows: BatchRange = FREE_HAND_ROWS,
) -> tuple[ExportedProgram, tuple[str, ...], dict[str, str]]:
    """``torch.export`` of the head for an output profile -> (program, output names, aliases;
    see ``head_output_names``), with [B,...] people and [H,...] hand rows in these ranges
    (min, opt = the example, max; by default free, hand rows may be 0)."""
    if model.prepared_for_inference:
        raise ValueError(
            "export the model as loaded: prepare_for_inference() packs CPU-only weights"
        )
    head = HeadProgram(model, profile).eval()
    head.output_names, aliases = head_output_names(model, profile)
    bodies, hands = batch_dim("people", people), batch_dim("hand_rows", hand_rows)
    shapes = [{0: bodies}] * 3 + [{0: hands}] * 3 + [{0: bodies}] * 3
    shapes += [{0: bodies}, {0: bodies}, None, {0: bodies}]
    example = example_head_inputs(people[1], hand_rows[1], model_device(model))
    start = time.perf_counter()
    with torch.no_grad(), keep_size_one_dynamic(people, hand_rows):
        program = torch.export.export(head, example, dynamic_shapes=tuple(shapes))
    LOG.info("exported %s in %.1f s", program_name("head", profile), time.perf_counter() - start)
    return program, head.output_names, aliases


def input_ranges(program: ExportedProgram) -> dict[str, tuple[tuple[int, ...], ...]]:
    """{user input: (min shape, opt shape, max shape)} of a program, as Torch-TensorRT reads
    them (range bounds; opt = the example's size)."""
    names = set(program.graph_signature.user_inputs)
    ranges = {}
    for node in program.graph.nodes:
        if node.op != "placeholder" or node.name not in names:
            continue
        shapes: list[list[int]] = [[], [], []]
        for size in node.meta["val"].shape:
            if isinstance(size, int) or size.node.expr.is_number:  # fixed, or specialised
                bounds = (int(size),) * 3
            else:
                limits = program.range_constraints[size.node.expr]
                bounds = (int(limits.lower), size.node.hint, int(limits.upper))
            for shape, value in zip(shapes, bounds, strict=True):
                shape.append(value)
        ranges[node.name] = tuple(tuple(shape) for shape in shapes)
    return ranges


def batch_range(program: ExportedProgram) -> BatchRange:
    """(min, opt, max) of the batch of a program's first input (``input_ranges``)."""
    low, opt, high = input_ranges(program)[program.graph_signature.user_inputs[0]]
    return low[0], opt[0], high[0]
