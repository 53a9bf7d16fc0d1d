"""Which torch device inference runs on: `auto` resolution, a clear error for a missing GPU."""

from __future__ import annotations

import torch

from pymafx_ros.config import PipelineConfig, check_value


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the first CUDA device when torch sees one, else the CPU; ``cpu``, ``cuda``,
    ``cuda:N`` as given. Raises ValueError naming the fix when the requested GPU is missing."""
    check_value(PipelineConfig, "device", name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type != "cuda":
        return device
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise ValueError(
            f"device {name!r}: torch {torch.__version__} ({build}) sees no CUDA device; install "
            "a CUDA build of torch and check the driver with nvidia-smi (README 'GPU'), or use "
            "device 'auto' or 'cpu'"
        )
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ValueError(f"device {name!r}: only {count} CUDA device(s), cuda:0..cuda:{count - 1}")
    return device


def describe_device(device: torch.device) -> str:
    """``cpu``, or e.g. ``cuda:0 (NVIDIA H100 80GB HBM3, sm_90)`` for logs and diagnostics."""
    if device.type != "cuda":
        return str(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    return f"cuda:{index} ({torch.cuda.get_device_name(index)}, sm_{major}{minor})"
