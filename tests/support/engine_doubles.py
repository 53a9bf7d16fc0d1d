"""A compile step for CPU tests of the tensorrt backend: the "engine" is the exported program
itself, saved and loaded with ``torch.export``, so everything around TensorRT (profiles, cache
keys, building on start, loading, the per-call plumbing, fallbacks) runs for real on the CPU."""

from __future__ import annotations

from pathlib import Path

import torch


class PlainPrograms:
    """An ``EngineCompiler`` without TensorRT; records what it was asked to compile."""

    def __init__(self, gpu: str = "Test GPU", missing: list[str] | None = None) -> None:
        self.gpu = gpu
        self._missing = missing or []
        self.compiled: list[tuple[str, str]] = []  # (profiles' first input, precision)

    def missing(self, device: torch.device) -> list[str]:
        return list(self._missing)

    def identity(self, device: torch.device) -> dict[str, str]:
        return {
            "gpu": self.gpu,
            "compute_capability": "sm_00",
            "torch": torch.__version__,
            "torch_tensorrt": "none",
            "tensorrt": "none",
        }

    def compile(self, program, profiles, precision, device):
        self.compiled.append((profiles[0].name, precision))
        return program

    def save(self, engine, path: Path) -> None:
        torch.export.save(engine, path)

    def load(self, path: Path, device: torch.device):
        return torch.export.load(path).module()
