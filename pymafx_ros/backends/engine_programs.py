"""What the TensorRT compile step takes: each exported program at its engine precision, and
the input profiles (min / opt / max shapes) its engine is built for.

The engines are compiled from the same ``ExportedProgram`` objects as the CPU backends
(``ProgramSource``). Precision is explicit in the graph, never left to the builder:

* ``fp16`` encoders: the encoder program re-exported with fp16 weights and casts at its
  boundary (fp32 crops in, fp32 maps out), so every convolution is typed fp16;
* the head (loop, rotations, regressors, SMPL-X skinning) stays fp32 in both precisions: fp16
  epsilons give NaN at zero rotation (notes/acceleration.md), and TF32 is off for it.

TensorRT cannot build a profile whose smallest batch is 0 (it clamps it to 1), so the head's
engine takes 1..2N hand rows and the backend passes one empty row when no hand is visible
(``no_hand_inputs``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.export import Dim, ExportedProgram

from pymafx_ros.backends.engine_options import ENGINE_PRECISIONS
from pymafx_ros.backends.programs import (
    CROP_SIZE,
    ENCODER_PARTS,
    HEAD_INPUTS,
    LEVEL_SIZES,
    MAX_HAND_ROWS,
    map_input_names,
)
from pymafx_ros.model.pymafx_net import BODY_LEVEL_CHANNELS, PART_LEVEL_CHANNELS

_DTYPES = {"fp16": torch.float16, "fp32": torch.float32}


@dataclass(frozen=True)
class InputProfile:
    """One engine input: its name, the shapes its engine accepts and the one it is tuned for
    (``opt``), and its dtype name (``float32``, ``int64``, ``bool``)."""

    name: str
    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]
    dtype: str = "float32"

    def describe(self) -> str:
        """``name:min/opt/max:dtype`` with shapes as AxBxC (part of the engine's cache key)."""
        shapes = ("x".join(map(str, s)) or "scalar" for s in (self.min, self.opt, self.max))
        return f"{self.name}:{'/'.join(shapes)}:{self.dtype}"


def engine_names(profile: str) -> tuple[str, ...]:
    """The programs one output profile runs: three encoders and its head."""
    return (*(f"{part}_encoder" for part in ENCODER_PARTS), f"head_{profile}")


def program_precision(name: str, precision: str) -> str:
    """The precision a program's engine computes in: the encoders follow ``precision``, the
    head is always fp32."""
    if precision not in ENGINE_PRECISIONS:
        raise ValueError(f"engine precision must be fp16 or fp32, got {precision!r}")
    return precision if name.endswith("_encoder") else "fp32"


def _people_range(max_people: int) -> tuple[int, int, int]:
    return 1, 1, max_people


def _hand_range(max_people: int) -> tuple[int, int, int]:
    # One person with both hands visible is the common case the engine is tuned for.
    return 1, min(2, 2 * max_people), 2 * max_people


def engine_profiles(name: str, max_people: int) -> tuple[InputProfile, ...]:
    """Input profiles of ``<part>_encoder`` or ``head_<profile>`` for up to ``max_people``
    people: bodies and faces 1..max_people, hand crops / rows 1..2*max_people."""
    if not 1 <= max_people <= MAX_HAND_ROWS // 2:
        raise ValueError(f"max_people must lie in [1, {MAX_HAND_ROWS // 2}], got {max_people}")
    if name.endswith("_encoder"):
        part = name.removesuffix("_encoder")
        if part not in ENCODER_PARTS:
            raise ValueError(f"no program {name!r}")
        low, opt, high = _hand_range(max_people) if part == "hand" else _people_range(max_people)
        image = (3, CROP_SIZE, CROP_SIZE)
        return (InputProfile("image", (low, *image), (opt, *image), (high, *image)),)
    people, hands = _people_range(max_people), _hand_range(max_people)
    profiles = []
    for part in ENCODER_PARTS:
        batch = hands if part == "hand" else people
        widths = BODY_LEVEL_CHANNELS if part == "body" else PART_LEVEL_CHANNELS
        for input_name, width, size in zip(
            map_input_names(part), widths, LEVEL_SIZES, strict=True
        ):
            shapes = [(count, width, size, size) for count in batch]
            profiles.append(InputProfile(input_name, *shapes))
    rows = [(count, 2) for count in people]
    profiles.append(InputProfile("hand_rows", *rows, dtype="int64"))
    profiles.append(InputProfile("vis_hands", *rows))
    profiles.append(InputProfile("predict_visibility", (), (), (), dtype="bool"))
    assert tuple(p.name for p in profiles) == HEAD_INPUTS
    return tuple(profiles)


def describe_profiles(profiles: tuple[InputProfile, ...]) -> str:
    return ";".join(profile.describe() for profile in profiles)


class _TypedEncoder(nn.Module):
    """An encoder computing in ``dtype`` on fp32 crops; its maps come back as fp32."""

    def __init__(self, encoder: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.encoder = encoder.to(dtype)
        self.dtype = dtype

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(level.float() for level in self.encoder(image.to(self.dtype)))


def typed_encoder_program(program: ExportedProgram, precision: str) -> ExportedProgram:
    """An encoder ``ExportedProgram`` [N,3,224,224] -> maps, computing in ``precision``: the
    program itself for fp32, else its graph re-exported with weights and activations in that
    dtype (a copy: ``program`` keeps its fp32 weights)."""
    dtype = _DTYPES[precision]
    if dtype == torch.float32:
        return program
    # deepcopy: .to() converts parameters in place, which would change ``program`` too.
    typed = _TypedEncoder(copy.deepcopy(program.module()), dtype).eval()
    (example,), _ = program.example_inputs
    batch = Dim("crops", min=1, max=MAX_HAND_ROWS)
    with torch.no_grad():
        return torch.export.export(typed, (example,), dynamic_shapes=({0: batch},))


def no_hand_inputs(hand_rows: Tensor) -> tuple[list[Tensor], Tensor]:
    """Head inputs for a batch whose hands all skip the expert, for an engine that needs at
    least one hand row: one zero row per hand map, and every person's rows pointing past it
    (the index of "not run": those hands keep their initial state, as with no rows at all)."""
    device = hand_rows.device
    maps = [
        torch.zeros(1, width, size, size, device=device)
        for width, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
    ]
    return maps, hand_rows + 1
