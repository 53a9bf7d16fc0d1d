"""The TensorRT compile step: an ``EngineCompiler`` says what this machine lacks for it, who it
compiles for (GPU and library versions, part of every engine's cache key), and compiles, saves
and loads one engine. ``TorchTensorRTCompiler`` on a GPU; tests pass anything with the same
methods (the CPU runs the plain programs).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.export import ExportedProgram

from pymafx_ros.backends.export.programs import keep_size_one_dynamic
from pymafx_ros.backends.export.source import library_versions
from pymafx_ros.backends.tensorrt.input_shapes import InputProfile

# A loaded engine: inputs in the program's order -> outputs in its order.
Engine = Callable[..., Any]


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
        **settings: Any,
    ) -> Any:
        """``torch_tensorrt.dynamo.compile`` of ``program`` for ``profiles``; ``settings`` go
        to it too (``dryrun=True`` for ``build-engines --dry-run``)."""
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
        batches = [(p.min[0], p.opt[0], p.max[0]) for p in profiles if p.min]
        with keep_size_one_dynamic(*batches):
            return torch_tensorrt.dynamo.compile(
                program, arg_inputs=inputs, **compile_settings(device, **settings)
            )

    def save(self, engine: Any, path: Path) -> None:
        import torch_tensorrt

        # retrace=False keeps the program's own symbolic batch sizes (people shared by the
        # body, face and control inputs) instead of one free size per input.
        torch_tensorrt.save(engine, str(path), output_format="exported_program", retrace=False)

    def load(self, path: Path, device: torch.device) -> Engine:
        import torch_tensorrt

        return torch_tensorrt.load(str(path)).module()


def compile_device(device: torch.device) -> torch.device:
    """``device`` with its index: ``cuda`` is the current CUDA device (``cuda:N``)."""
    # Torch-TensorRT turns an index-less device into Device(gpu_id=None), which its own
    # to_torch_device rejects (TypeError) before any conversion: always name the GPU.
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def compile_settings(device: torch.device, **extra: Any) -> dict[str, Any]:
    """The keyword arguments every engine is compiled with (besides the inputs)."""
    # Strongly typed: the graph's dtypes are what runs (fp16 only where the program has it).
    # TF32 off: fp32 here means fp32 (the head's rotations and skinning).
    return {
        "device": compile_device(device),
        "disable_tf32": True,
        "truncate_double": True,
        **extra,
    }


def _tensorrt_version(installed: str) -> str:
    """TensorRT's version: the runtime's own when importable (Jetson ships it outside pip)."""
    try:
        import tensorrt

        return str(tensorrt.__version__)
    except ImportError:
        return installed
