"""Threads for the model stage, so that it and the front end beside it share the cores.

The front end (MediaPipe) runs its networks on one thread (XNNPACK's default on desktop Linux;
about one core while it runs, measured with ``time.process_time``), during the last part of
each model stage (``pipeline.overlap`` starts it just in time). The exported CPU engines keep
every core: their idle threads wait without spinning (OpenVINO's pool; ONNX Runtime with
spinning turned off), so while the front end runs they lose about one core's share for that
time only. Eager torch's OpenMP threads spin at every barrier and slow down many times over
when one of their cores is taken, so beside the front end it gets every core but one, from four
cores up: on two, one thread would make every model stage about twice as long, more than the
front end's time it would save (there, eager torch runs faster with ``overlap_front_end``
false, or use an exported engine).
"""

from __future__ import annotations

import os

import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.selection import choose_backend
from pymafx_ros.config import PipelineConfig

# Engines whose CPU threads are OpenMP's (spinning): torch and what torch.compile makes of it.
_SPINNING_ENGINES = ("torch", "torch_compile")
_FEWEST_CORES_TO_SPARE = 4


def model_threads(config: PipelineConfig, device: torch.device, cores: int | None = None) -> int:
    """``config.num_threads`` when set; else, for eager torch on a CPU of 4 or more ``cores``
    with the front end beside it, all but one; else 0 (the engine's default: every core)."""
    if config.num_threads or not config.overlap_front_end or device.type != "cpu":
        return config.num_threads
    try:
        engine = choose_backend(config.backend, config.precision, "cpu", detect_cpu_features())
    except (ValueError, RuntimeError):
        return 0  # loading the model reports what is wrong with the choice
    cores = cores or os.cpu_count() or 2
    if engine.backend not in _SPINNING_ENGINES or cores < _FEWEST_CORES_TO_SPARE:
        return 0
    return cores - 1
