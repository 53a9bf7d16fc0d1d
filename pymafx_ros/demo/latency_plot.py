"""A picture of a run's latency: end to end per processed frame, and each stage's rolling median
as the node reported it. Written by ``make demo`` and ``benchmarks/node_overload.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

Series = Sequence[tuple[float, float]]  # (seconds since the start, milliseconds)


def write_latency_plot(
    path: Path, end_to_end: Series, stages: Mapping[str, Series], title: str
) -> Path:
    """PNG at ``path``: top, image stamp -> people received, per frame (with its median);
    bottom, the node's per-stage p50 over its last 10 s, one line per stage."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7), dpi=100)
    if end_to_end:
        t, ms = np.array(end_to_end, dtype=float).T
        top.plot(t, ms, ".-", lw=0.8, ms=4, label="end to end (image stamp → people received)")
        top.axhline(float(np.median(ms)), color="k", ls="--", lw=0.8,
                    label=f"median {np.median(ms):.0f} ms")  # fmt: skip
    top.set_ylabel("ms per processed frame")
    top.set_ylim(bottom=0)
    top.legend(loc="upper left", fontsize=8)
    top.set_title(title, fontsize=10)
    for stage, series in sorted(stages.items(), key=lambda item: -max(v for _, v in item[1])):
        if series:
            t, ms = np.array(series, dtype=float).T
            bottom.plot(t, ms, lw=1.0, label=stage)
    bottom.set_ylabel("ms, p50 over the last 10 s")
    bottom.set_xlabel("seconds since the first processed frame")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper right", fontsize=7, ncol=3)
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
