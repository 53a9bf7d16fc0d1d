"""``precision: auto`` with int8 in the running: the fastest precision within the bound from
injected timings and costs, int8 only with a recorded cost for the loaded weights, the decision
keyed by the CPU and libraries, and a cached decision reused without timing again."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.backends.auto_precision import (
    AUTO_BOUND_MM,
    DecisionCache,
    candidates,
    decide,
    decision_key,
    pick_precision,
)
from pymafx_ros.backends.calibration import CalibrationSet, CalibrationStore
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.source import weights_fingerprint
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.pipeline.calibration import normalise

BOTH = CpuFeatures("CPU with VNNI and bf16", frozenset({"avx512f", "avx512_vnni", "avx512_bf16"}))
VNNI_ONLY = CpuFeatures("CPU with VNNI", frozenset({"avx512f", "avx512_vnni"}))
PLAIN = CpuFeatures("plain CPU", frozenset({"avx2", "fma"}))
TIMINGS = {"fp32": 160.0, "bf16": 100.0, "int8": 55.0}


def test_candidates_follow_flags_backend_and_calibration():
    assert candidates(BOTH, "openvino", True) == ["fp32", "bf16", "int8"]
    assert candidates(BOTH, "openvino", False) == ["fp32", "bf16"]
    assert candidates(BOTH, "onnxruntime", True) == ["fp32"]
    assert candidates(VNNI_ONLY, "openvino", True) == ["fp32", "int8"]
    assert candidates(PLAIN, "openvino", True) == ["fp32"]


@pytest.mark.parametrize(
    ("costs", "want", "said"),
    [
        ({"bf16": 1.8, "int8": 3.0}, "int8", "fastest within 5.0 mm"),
        ({"bf16": 1.8, "int8": 7.5}, "bf16", "int8 costs 7.5 mm > 5.0 mm"),
        ({"bf16": 1.8, "int8": None}, "bf16", "int8 has no measured cost"),
        ({"bf16": 6.0, "int8": 9.0}, "fp32", "bf16 costs 6.0 mm"),
    ],
)
def test_the_fastest_within_the_bound_wins(costs, want, said):
    precision, reason = pick_precision(TIMINGS, costs)
    assert precision == want
    assert said in reason


def test_ties_go_to_the_more_exact_precision():
    assert pick_precision({"fp32": 50.0, "int8": 50.0}, {"int8": 1.0})[0] == "fp32"


def test_the_decision_key_names_cpu_threads_and_weights():
    key = decision_key(BOTH, 2, ["fp32", "int8"], "w1", "c1")
    assert key == decision_key(BOTH, 2, ["fp32", "int8"], "w1", "c1")
    others = {
        decision_key(VNNI_ONLY, 2, ["fp32", "int8"], "w1", "c1"),
        decision_key(BOTH, 1, ["fp32", "int8"], "w1", "c1"),
        decision_key(BOTH, 2, ["fp32", "int8"], "w2", "c1"),
        decision_key(BOTH, 2, ["fp32", "int8"], "w1", "c2"),
        decision_key(CpuFeatures("another model", BOTH.flags), 2, ["fp32", "int8"], "w1", "c1"),
    }
    assert key not in others and len(others) == 5


@pytest.fixture
def recorded(tmp_path, seeded_model):
    """A calibration store where the seeded weights' int8 cost is recorded as ``cost`` mm."""
    store = CalibrationStore(tmp_path / "calibration")
    rng = np.random.default_rng(0)
    crops = {p: rng.integers(0, 256, (1, 224, 224, 3), np.uint8) for p in ("body", "hand", "face")}

    def record(cost: float) -> CalibrationStore:
        store.save(
            weights_fingerprint(seeded_model),
            CalibrationSet(crops, normalise, "test frames"),
            {"cost_vs_fp32": {"joints_mm_max": cost}},
        )
        return store

    return record


def _options():
    return BackendOptions("openvino", "auto", num_threads=2, calibration=lambda _weights: None)


def test_int8_is_timed_only_with_a_cost_within_the_bound(tmp_path, seeded_model, recorded):
    def no_timing(precision):
        raise AssertionError(f"{precision} was timed although int8 cannot win")

    cache = DecisionCache(tmp_path / "decisions")
    unrecorded = CalibrationStore(tmp_path / "empty")
    decision = decide(seeded_model, BOTH, _options(), "openvino", no_timing, unrecorded, cache)
    assert decision.precision == "bf16" and "run pymafx-ros calibrate" in decision.reason
    store = recorded(AUTO_BOUND_MM + 1.0)
    decision = decide(seeded_model, BOTH, _options(), "openvino", no_timing, store, cache)
    assert decision.precision == "bf16" and "int8 costs 6.0 mm" in decision.reason
    assert decision.costs_mm["int8"] == AUTO_BOUND_MM + 1.0


def test_a_cached_decision_is_reused_without_timing(tmp_path, seeded_model, recorded):
    store = recorded(2.5)
    cache = DecisionCache(tmp_path / "decisions")
    timed = []

    def timer(precision):
        timed.append(precision)
        return TIMINGS[precision]

    first = decide(seeded_model, BOTH, _options(), "openvino", timer, store, cache)
    assert timed == ["fp32", "bf16", "int8"]
    assert first.precision == "int8" and not first.cached
    assert "int8 55.0 ms" in first.describe()

    def no_timing(precision):
        raise AssertionError("timed again although the decision is cached")

    again = decide(seeded_model, BOTH, _options(), "openvino", no_timing, store, cache)
    assert again.cached and again.precision == "int8"
    assert again.timings_ms == first.timings_ms
    assert "(cached decision)" in again.describe()
    assert [d.precision for d in cache.decisions()] == ["int8"]
    # Another CPU (here: no bf16) is timed on its own.
    decide(seeded_model, VNNI_ONLY, _options(), "openvino", timer, store, cache)
    assert timed[3:] == ["fp32", "int8"]


def test_the_backend_says_why_auto_left_int8_out(tmp_path, seeded_model, monkeypatch):
    from pymafx_ros.backends import calibration
    from pymafx_ros.backends.selection import create_backend

    monkeypatch.setattr(calibration, "default_calibration_dir", lambda: tmp_path / "none")
    options = BackendOptions("openvino", "auto", cpu=BOTH, calibration=lambda _weights: None)
    backend = create_backend(seeded_model, options)
    facts = backend.describe()
    assert facts["precision"] == "bf16" and facts["native_int8"] == "true"
    assert "int8 has no measured cost" in facts["precision_auto"]
