"""The TensorRT compile step's inputs written to a folder, on any machine (no CUDA needed).

``pymafx-ros build-engines --export-only --out DIR`` writes, per engine, the ``ExportedProgram``
exactly as the compile step takes it (``torch.export.save``: fp16 encoders already typed, the
fp32 head) and ``programs.json``: each program's file, precision, input profiles, output names
and aliases, and what the programs were made from (weights hash, code version, torch). Load one
with ``torch.export.load(path).module()``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch

from pymafx_ros.backends.export.programs import input_ranges
from pymafx_ros.backends.export.source import ProgramSource
from pymafx_ros.backends.tensorrt.input_shapes import (
    engine_names,
    engine_profiles,
    engine_program,
    program_precision,
)

LOG = logging.getLogger(__name__)

MANIFEST = "programs.json"


def compile_input_names(profiles: tuple[str, ...]) -> tuple[str, ...]:
    """The programs behind the engines of some head profiles: three encoders, one head each."""
    names: list[str] = []
    for profile in profiles:
        names += [name for name in engine_names(profile) if name not in names]
    return tuple(names)


def write_compile_inputs(
    source: ProgramSource,
    out: Path,
    precision: str,
    max_people: int,
    profiles: tuple[str, ...],
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Export every program the engines for ``precision`` / ``max_people`` / ``profiles`` are
    compiled from into ``out``; returns the manifest's path. ``progress(step, steps, text)``
    is called before each program."""
    out.mkdir(parents=True, exist_ok=True)
    names = compile_input_names(profiles)
    manifest: dict[str, object] = {
        "precision": precision,
        "max_people": max_people,
        "weights": source.inputs["weights"],
        "code": source.inputs["code"],
        "torch": torch.__version__,
        "programs": {},
    }
    programs: dict[str, object] = {}
    for step, name in enumerate(names, start=1):
        engine_precision = program_precision(name, precision)
        if progress is not None:
            progress(step, len(names), f"exporting {name} ({engine_precision})")
        start = time.perf_counter()
        program, outputs, aliases = engine_program(source, name, precision, max_people)
        path = out / f"{name}.{engine_precision}.pt2"
        torch.export.save(program, path)
        programs[name] = {
            "file": path.name,
            "precision": engine_precision,
            "inputs": [p.describe() for p in engine_profiles(name, max_people)],
            # What Torch-TensorRT builds the profiles from: the program's own ranges.
            "program_ranges": {
                input_name: "/".join("x".join(map(str, shape)) or "scalar" for shape in shapes)
                for input_name, shapes in input_ranges(program).items()
            },
            "outputs": list(outputs),
            "aliases": aliases,
        }
        LOG.info("wrote %s in %.1f s", path, time.perf_counter() - start)
    manifest["programs"] = programs
    target = out / MANIFEST
    target.write_text(json.dumps(manifest, indent=1))
    return target
