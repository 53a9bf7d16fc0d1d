"""TensorRT engines of the exported programs: compiled with Torch-TensorRT, serialised into the
artefact cache, keyed by everything that makes an engine valid.

An engine only runs on the GPU model and the TensorRT build it was made for, so its cache key
holds the GPU's name and compute capability, the TensorRT / Torch-TensorRT / torch versions,
its input profiles (``engine_programs.engine_profiles``), its precision, the weights' hash and
the model code's version. The compile step is an ``EngineCompiler``: ``TorchTensorRTCompiler``
on a GPU, anything with the same methods in tests (the CPU runs the plain programs).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.export import ExportedProgram

from pymafx_ros.backends.artefact_cache import ArtefactCache, EntryKey
from pymafx_ros.backends.engine_programs import (
    InputProfile,
    describe_profiles,
    engine_profiles,
    program_precision,
    typed_encoder_program,
)
from pymafx_ros.backends.program_source import ProgramSource, library_versions

LOG = logging.getLogger(__name__)

ENGINE_FILE = "engine.pt2"
OUTPUTS_FILE = "outputs.json"
# A loaded engine: inputs in the program's order -> outputs in its order.
Engine = Callable[..., Any]
# Progress of a build: (step, steps, message).
Progress = Callable[[int, int, str], None]


class EngineCompiler(Protocol):
    """The compile step: what this machine lacks for it, who it compiles for, and compiling,
    saving and loading one engine."""

    def missing(self, device: torch.device) -> list[str]: ...

    def identity(self, device: torch.device) -> dict[str, str]: ...

    def compile(
        self,
        program: ExportedProgram,
        profiles: tuple[InputProfile, ...],
        precision: str,
        device: torch.device,
    ) -> Any: ...

    def save(self, engine: Any, path: Path) -> None: ...

    def load(self, path: Path, device: torch.device) -> Engine: ...


class TorchTensorRTCompiler:
    """Torch-TensorRT (``torch_tensorrt.dynamo``) on a CUDA device."""

    def missing(self, device: torch.device) -> list[str]:
        """What must be installed or present first, one sentence each (empty: nothing)."""
        problems = []
        if device.type != "cuda":
            problems.append(f"CUDA: the tensorrt backend runs on a CUDA device, not {device}")
        elif not torch.cuda.is_available():
            problems.append(
                "CUDA: torch sees no CUDA device (torch.cuda.is_available() is False; torch "
                f"{torch.__version__}, built for CUDA {torch.version.cuda or 'none'})"
            )
        if importlib.util.find_spec("torch_tensorrt") is None:
            problems.append(
                "torch_tensorrt: Torch-TensorRT is not installed (pip install -r "
                "requirements/gpu.txt, or NVIDIA's Jetson wheels on a Jetson; README 'GPU')"
            )
        return problems

    def identity(self, device: torch.device) -> dict[str, str]:
        """The GPU and the libraries an engine is only valid for."""
        major, minor = torch.cuda.get_device_capability(device)
        versions = library_versions("torch", "torch_tensorrt", "tensorrt")
        return {
            "gpu": torch.cuda.get_device_name(device),
            "compute_capability": f"sm_{major}{minor}",
            "torch": torch.__version__,
            "torch_tensorrt": versions["torch_tensorrt"],
            "tensorrt": _tensorrt_version(versions["tensorrt"]),
        }

    def compile(
        self,
        program: ExportedProgram,
        profiles: tuple[InputProfile, ...],
        precision: str,
        device: torch.device,
    ) -> Any:
        import torch_tensorrt

        inputs = [
            torch_tensorrt.Input(shape=p.min, dtype=getattr(torch, p.dtype), name=p.name)
            if p.min == p.max  # a fixed shape (the 0-d visibility flag) is not a range
            else torch_tensorrt.Input(
                min_shape=p.min,
                opt_shape=p.opt,
                max_shape=p.max,
                dtype=getattr(torch, p.dtype),
                name=p.name,
            )
            for p in profiles
        ]
        # Strongly typed: the graph's dtypes are what runs (fp16 only where the program has
        # it). TF32 is off: fp32 here means fp32 (the head's rotations and skinning).
        return torch_tensorrt.dynamo.compile(
            program,
            arg_inputs=inputs,
            device=device,
            disable_tf32=True,
            truncate_double=True,
        )

    def save(self, engine: Any, path: Path) -> None:
        import torch_tensorrt

        # retrace=False keeps the program's own symbolic batch sizes (people shared by the
        # body, face and control inputs) instead of one free size per input.
        torch_tensorrt.save(engine, str(path), output_format="exported_program", retrace=False)

    def load(self, path: Path, device: torch.device) -> Engine:
        import torch_tensorrt

        return torch_tensorrt.load(str(path)).module()


def _tensorrt_version(installed: str) -> str:
    """TensorRT's version: the runtime's own when importable (Jetson ships it outside pip)."""
    try:
        import tensorrt

        return str(tensorrt.__version__)
    except ImportError:
        return installed


def engine_key(
    name: str,
    precision: str,
    profiles: tuple[InputProfile, ...],
    model: Mapping[str, str],
    identity: Mapping[str, str],
) -> EntryKey:
    """The cache key of one engine: program, its precision, input profiles, weights hash and
    code version (``model``), GPU and library versions (``identity``)."""
    inputs = {"weights": model["weights"], "code": model["code"], **identity}
    inputs["profiles"] = describe_profiles(profiles)
    return EntryKey("tensorrt", name, program_precision(name, precision), inputs)


class EngineStore:
    """The engines of one model, precision and batch limit on one GPU: which exist, building
    the missing ones, loading them."""

    def __init__(
        self,
        source: ProgramSource,
        compiler: EngineCompiler,
        device: torch.device,
        precision: str,
        max_people: int,
    ) -> None:
        self.source = source
        self.compiler = compiler
        self.device = device
        self.precision = precision
        self.max_people = max_people
        self.identity = compiler.identity(device)

    @property
    def cache(self) -> ArtefactCache:
        return self.source.cache

    def key(self, name: str) -> EntryKey:
        profiles = engine_profiles(name, self.max_people)
        return engine_key(name, self.precision, profiles, self.source.inputs, self.identity)

    def problem(self, name: str) -> str | None:
        """Why the engine of ``name`` cannot be loaded as it is (None: it can)."""
        return self.cache.check(self.key(name))

    def folder(self, name: str) -> Path:
        return self.cache.root / self.key(name).folder_name

    def build(self, name: str) -> Path:
        """The engine's folder, compiled first when missing or damaged (minutes)."""
        key = self.key(name)
        precision = program_precision(name, self.precision)
        profiles = engine_profiles(name, self.max_people)

        def compile_into(folder: Path) -> None:
            program, outputs, aliases = self.source.exported_program(name)
            if name.endswith("_encoder"):
                program = typed_encoder_program(program, precision)
            start = time.perf_counter()
            LOG.info(
                "compiling %s (%s; %s) on %s: minutes",
                name,
                precision,
                describe_profiles(profiles),
                self.identity.get("gpu", self.device),
            )
            engine = self.compiler.compile(program, profiles, precision, self.device)
            self.compiler.save(engine, folder / ENGINE_FILE)
            names = {"outputs": list(outputs), "aliases": aliases}
            (folder / OUTPUTS_FILE).write_text(json.dumps(names, indent=1))
            LOG.info("compiled %s in %.1f s", name, time.perf_counter() - start)

        return self.cache.get_or_build(key, compile_into, f"TensorRT engine {name} ({precision})")

    def load(self, name: str) -> tuple[Engine, tuple[str, ...], dict[str, str]]:
        """(engine, output names, aliases) of a built engine; a damaged one is discarded and
        the error raised again (it is rebuilt on the next build)."""
        key = self.key(name)
        folder = self.cache.root / key.folder_name
        try:
            names = json.loads((folder / OUTPUTS_FILE).read_text())
            engine = self.compiler.load(folder / ENGINE_FILE, self.device)
        except Exception as error:
            self.cache.discard(key, f"the engine could not be loaded: {error}")
            raise
        return engine, tuple(names["outputs"]), dict(names["aliases"])
