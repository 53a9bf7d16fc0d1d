"""Whether the front end runs beside the model, and the model stage's threads, so that the two
stages share the cores instead of oversubscribing them.

The front end (MediaPipe) keeps about one core busy while it runs (1.3 cores measured with
``time.process_time``). Beside a model that uses every core it slows that model by more than it
saves: on the 2-core development machine OpenVINO bf16 ran 1.95x slower beside a running front
end with 2 threads (1.12x with 1 thread, which alone is 1.45x slower than 2), and the node's
``make demo`` processed 61 frames overlapped against 67 one after the other
(``benchmarks/overlap_threads.py``, docs/stages.md). So the front end runs beside the model
only where it has a core the model does not use: with ``num_threads`` below the core count, or,
with ``num_threads`` 0, from four cores up, where the model gets every core but one. On a GPU
the model's work is the GPU's, and the stages always overlap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from pymafx_ros.config import PipelineConfig

# Below this many cores a core given to the front end costs the model more than it saves.
FEWEST_CORES_TO_SPARE = 4


@dataclass(frozen=True)
class StagePlan:
    """How the two stages run: ``overlap`` (front end beside the model), the model's
    ``threads`` (0: the engine's default, every core) and why, for the log and diagnostics."""

    overlap: bool
    threads: int
    reason: str


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def stage_plan(
    config: PipelineConfig, device: torch.device, cores: int | None = None
) -> StagePlan:
    """The plan for ``config`` on ``device`` with ``cores`` CPU cores (default: this process's)."""
    threads = config.num_threads
    if not config.overlap_front_end:
        return StagePlan(False, threads, "overlap_front_end is false")
    if device.type != "cpu":
        return StagePlan(True, threads, f"the model runs on {device}")
    cores = cores or usable_cores()
    if threads:
        if threads < cores:
            return StagePlan(
                True, threads, f"the model's {threads} threads leave the front end a core"
            )
        return StagePlan(
            False,
            threads,
            f"num_threads {threads} takes all {cores} cores: the front end would slow the model "
            "more than it saves, so the stages run one after the other",
        )
    if cores < FEWEST_CORES_TO_SPARE:
        return StagePlan(
            False,
            0,
            f"{cores} cores: the front end would slow the model more than it saves (measured), so "
            "the stages run one after the other; set num_threads below the core count to overlap",
        )
    return StagePlan(True, cores - 1, f"{cores} cores: the model {cores - 1}, the front end 1")
