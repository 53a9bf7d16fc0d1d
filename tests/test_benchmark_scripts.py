"""The benchmark scripts run and print what the README says they print (figures not checked:
speed is measured by running them, never by tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_model_benchmark_prints_one_json_line_per_stage():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "benchmarks/model_cpu.py", "--repeats", "1", "--warmup", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    stages = [r["stage"] for r in records]
    assert stages == [
        "body_encoder",
        "hand_encoder",
        "face_encoder",
        "head",
        "full_forward",
        "full_forward_joints",
        "full_forward_one_hand_hidden",
        "full_forward_release",
    ]
    for record in records:
        assert record["min_ms"] > 0 and record["median_ms"] >= record["min_ms"]
        assert record["threads"] == 2 and record["samples"] == 1
        assert record["backend"] == "torch" and record["precision"] == "fp32"
        assert record["cpu"] and "cpu_flags" in record


def test_pipeline_benchmark_prints_frames_per_second_per_case():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "benchmarks/pipeline_cpu.py", "--repeats", "1", "--backend", "torch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["people"] for r in records] == [1, 3]
    for record in records:
        assert record["frames_per_s"] > 0 and record["backend"] == "torch"
        assert record["precision"] == "fp32" and record["cpu"]
        assert set(record["stages"]) == {"frontend", "crops", "model", "lift", "total"}
