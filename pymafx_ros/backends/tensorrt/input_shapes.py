"""The input profiles (min / opt / max shapes) each TensorRT engine is built for, and the
precision each engine computes in.

The engines are compiled from the same ``ExportedProgram`` objects as the CPU backends
(``export.source.ProgramSource``); precision is explicit in the graph, never left to the
builder: fp16 encoders are typed programs (``export.typed_programs``), the head (loop,
rotations, regressors, SMPL-X skinning) stays fp32 in both precisions: fp16 epsilons give NaN
at zero rotation (notes/acceleration.md), and TF32 is off for it.

TensorRT cannot build a profile whose smallest batch is 0 (it clamps it to 1), so the head's
engine takes 1..2N hand rows and the backend passes one empty row when no hand is visible
(``tensorrt_backend.no_hand_inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch.export import ExportedProgram

from pymafx_ros.backends.export.programs import (
    CROP_SIZE,
    ENCODER_PARTS,
    HEAD_INPUTS,
    LEVEL_SIZES,
    batch_ranges,
    map_input_names,
)
from pymafx_ros.backends.export.source import ProgramSource
from pymafx_ros.backends.export.typed_programs import typed_encoder_program
from pymafx_ros.backends.tensorrt.options import ENGINE_PRECISIONS
from pymafx_ros.model.pymafx_net import BODY_LEVEL_CHANNELS, PART_LEVEL_CHANNELS


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


def engine_profiles(name: str, max_people: int) -> tuple[InputProfile, ...]:
    """Input profiles of ``<part>_encoder`` or ``head_<profile>`` for up to ``max_people``
    people: bodies and faces 1..max_people, hand crops / rows 1..2*max_people. The programs
    compiled for them are exported with the same ranges (``engine_program``): Torch-TensorRT
    takes each engine's min / opt / max from the program, not from these."""
    people, hands = batch_ranges(max_people, head=name.startswith("head_"))
    if name.endswith("_encoder"):
        part = name.removesuffix("_encoder")
        if part not in ENCODER_PARTS:
            raise ValueError(f"no program {name!r}")
        low, opt, high = hands if part == "hand" else people
        image = (3, CROP_SIZE, CROP_SIZE)
        return (InputProfile("image", (low, *image), (opt, *image), (high, *image)),)
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
    profiles.append(InputProfile("run_face", *((count,) for count in people), dtype="bool"))
    assert tuple(p.name for p in profiles) == HEAD_INPUTS
    return tuple(profiles)


def describe_profiles(profiles: tuple[InputProfile, ...]) -> str:
    return ";".join(profile.describe() for profile in profiles)


def engine_program(
    source: ProgramSource, name: str, precision: str, max_people: int
) -> tuple[ExportedProgram, tuple[str, ...], dict[str, str]]:
    """(program, output names, aliases) an engine is compiled from: batches bounded as its
    profiles (``max_people``), an encoder typed in its precision."""
    program, outputs, aliases = source.exported_program(name, max_people=max_people)
    if name.endswith("_encoder"):
        program = typed_encoder_program(program, program_precision(name, precision))
    return program, outputs, aliases
