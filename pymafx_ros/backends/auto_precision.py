"""``precision: auto`` where the CPU's flags do not settle it: time the candidates, keep the
fastest within auto's accuracy bound.

Without int8 in the running the flags settle it (native bf16 beats fp32, measured). With int8:

``openvino`` may run fp32, bf16 (native bf16) and int8 (int8 dot products). Which is
fastest depends on the CPU (AMX or not, one or two FMA units, VNNI width), so the candidates'
encoders are timed once per CPU (a few forwards each, seconds once their artefacts are cached)
and the decision is cached, keyed by the CPU model, flags, core and thread counts, the library
versions and, where int8 competes, the weights and their calibration. A candidate competes only
within ``AUTO_BOUND_MM`` of fp32 on the largest joint distance: bf16 by its measured cost, int8
only by the cost ``pymafx-ros calibrate`` measured and recorded for the loaded weights.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from pymafx_ros.backends.calibration import CalibrationStore
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.source import library_versions, weights_fingerprint
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.storage import cache_root, write_text_atomic

if TYPE_CHECKING:
    from pymafx_ros.backends.interface import Backend
    from pymafx_ros.model.pymafx_net import PyMAFX

LOG = logging.getLogger(__name__)

# auto's accuracy bound: the largest joint distance from fp32 it accepts, in mm.
AUTO_BOUND_MM = 5.0
# bf16's largest measured distance from fp32 (docs/benchmarks.md, seeded stand-in weights).
BF16_MEASURED_MM = 1.8
# Ties go to the more exact precision.
PREFERENCE = ("fp32", "bf16", "int8")
# Crops per encoder timed: one person with both hands visible.
TIMED_BATCH = {"body": 1, "hand": 2, "face": 1}
TIMED_REPEATS = 3

# precision -> encoders' time in ms for one person with both hands.
Timer = Callable[[str], float]


@dataclass(frozen=True)
class AutoDecision:
    """What ``auto`` chose, why, and the figures it chose on (``cached``: read back, not timed
    in this process)."""

    precision: str
    reason: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    costs_mm: dict[str, float | None] = field(default_factory=dict)
    cached: bool = False

    def describe(self) -> str:
        """One line for logs, diagnostics and ``pymafx-ros check``."""
        timed = ", ".join(f"{p} {ms:.1f} ms" for p, ms in self.timings_ms.items())
        origin = " (cached decision)" if self.cached else ""
        figures = f"encoders {timed}; " if timed else ""
        return f"{self.precision}: {figures}{self.reason}{origin}"


def candidates(cpu: CpuFeatures, backend: str, int8_offered: bool) -> list[str]:
    """The precisions ``backend`` runs fast on ``cpu`` (int8 only if ``int8_offered``: a
    calibration set can be had)."""
    found = ["fp32"]
    if cpu.native_bf16 and backend in ("openvino", "torch"):
        found.append("bf16")
    if cpu.native_int8 and backend == "openvino" and int8_offered:
        found.append("int8")
    return found


def pick_precision(
    timings_ms: Mapping[str, float],
    costs_mm: Mapping[str, float | None],
    bound_mm: float = AUTO_BOUND_MM,
) -> tuple[str, str]:
    """(precision, reason): the fastest timed precision whose cost (largest joint distance from
    fp32, mm; None: not measured) is within ``bound_mm``; fp32 always qualifies."""
    eligible, excluded = [], []
    for precision in timings_ms:
        cost = 0.0 if precision == "fp32" else costs_mm.get(precision)
        if cost is None or cost > bound_mm:
            excluded.append(_why_not(precision, cost, bound_mm))
        else:
            eligible.append(precision)
    if not eligible:
        eligible = ["fp32"]
    best = min(eligible, key=lambda p: (timings_ms.get(p, float("inf")), PREFERENCE.index(p)))
    reason = f"fastest within {bound_mm:.1f} mm of fp32 of {', '.join(eligible)}"
    if excluded:
        reason += "; " + "; ".join(excluded)
    return best, reason


def _why_not(precision: str, cost: float | None, bound_mm: float) -> str:
    if cost is None:
        return f"{precision} has no measured cost for these weights (run pymafx-ros calibrate)"
    return f"{precision} costs {cost:.1f} mm > {bound_mm:.1f} mm"


def decision_key(
    cpu: CpuFeatures, threads: int, timed: list[str], weights: str = "", calibration: str = ""
) -> str:
    """Hash of everything a timing decision depends on: CPU model, flags, cores, threads, the
    precisions timed, library versions, and (int8 timed) the weights and calibration."""
    inputs = {
        "cpu": cpu.model,
        "flags": sorted(cpu.flags),
        "cores": os.cpu_count(),
        "threads": threads,
        "timed": timed,
        "versions": library_versions("openvino", "nncf", "torch"),
        "weights": weights,
        "calibration": calibration,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


class DecisionCache:
    """Timing decisions as JSON files under ``root`` (default: ``<cache>/auto_precision``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root() / "auto_precision"

    def load(self, key: str) -> AutoDecision | None:
        try:
            values = json.loads((self.root / f"{key}.json").read_text())
            return replace(AutoDecision(**values), cached=True)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as error:
            LOG.warning("ignoring an unreadable auto precision decision %s: %s", key, error)
            return None

    def save(self, key: str, decision: AutoDecision) -> None:
        values = {**asdict(decision), "cached": False}
        write_text_atomic(self.root / f"{key}.json", json.dumps(values, indent=1))

    def decisions(self) -> list[AutoDecision]:
        """Every cached decision (for ``pymafx-ros check``)."""
        found = []
        for path in sorted(self.root.glob("*.json")):
            decision = self.load(path.stem)
            if decision is not None:
                found.append(decision)
        return found


def time_encoders(backend: Backend, repeats: int = TIMED_REPEATS) -> float:
    """The three encoders' time (ms, sum of medians) for one person with both hands; one
    untimed call first loads each encoder."""
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for part, batch in TIMED_BATCH.items():
        images = torch.randn(batch, 3, 224, 224, generator=generator)
        backend.encode(part, images)  # type: ignore[attr-defined]
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            backend.encode(part, images)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - start) * 1000.0)
        total += statistics.median(times)
    return total


def backend_timer(build: Callable[[str], Backend]) -> Timer:
    """Times the backend ``build(precision)`` makes (each built, timed and freed); the builder
    comes from ``selection``, which calls ``decide``."""

    def timer(precision: str) -> float:
        engine = build(precision)
        try:
            return time_encoders(engine)
        finally:
            del engine
            gc.collect()

    return timer


def decide(
    model: PyMAFX,
    cpu: CpuFeatures,
    options: BackendOptions,
    backend: str,
    timer: Timer,
    store: CalibrationStore | None = None,
    cache: DecisionCache | None = None,
) -> AutoDecision:
    """auto's precision for ``backend`` on ``cpu``: the cached decision for this CPU, libraries
    (and weights, with int8) when there is one, else the candidates timed (``timer``, default:
    ``backend_timer`` for the real encoders) and the decision cached."""
    offered = candidates(cpu, backend, options.calibration is not None)
    costs: dict[str, float | None] = {"fp32": 0.0, "bf16": BF16_MEASURED_MM}
    weights = calibration = ""
    if "int8" in offered:
        weights = weights_fingerprint(model)
        record = (store or CalibrationStore()).active_record(weights) or {}
        cost = record.get("cost_vs_fp32")
        costs["int8"] = float(cost["joints_mm_max"]) if isinstance(cost, dict) else None
        calibration = str(record.get("calibration", ""))
    # Only what may win is timed: a candidate outside the bound is settled without timing.
    within = [p for p in offered if costs.get(p) is not None and costs[p] <= AUTO_BOUND_MM]
    excluded = [_why_not(p, costs.get(p), AUTO_BOUND_MM) for p in offered if p not in within]
    if "int8" not in within:
        # Without int8 the flags settle it: native bf16 is faster than fp32 (measured).
        precision = "bf16" if "bf16" in within else "fp32"
        reason = "; ".join([f"{precision} by the CPU flags", *excluded])
        return AutoDecision(precision, reason, {}, {p: costs.get(p) for p in offered})
    cache = cache or DecisionCache()
    key = decision_key(cpu, options.num_threads, within, weights, calibration)
    cached = cache.load(key)
    if cached is not None:
        return cached
    timings = {precision: round(timer(precision), 2) for precision in within}
    precision, reason = pick_precision(timings, costs)
    if excluded:
        reason += "; not timed: " + "; ".join(excluded)
    decision = AutoDecision(precision, reason, timings, {p: costs.get(p) for p in offered})
    cache.save(key, decision)
    LOG.info("precision auto timed on this CPU: %s", decision.describe())
    return decision
