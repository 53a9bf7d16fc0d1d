"""The benchmark scripts run and print what the README says they print (figures not checked:
speed is measured by running them, never by tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # runs a benchmark

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


def test_people_found_benchmark_prints_a_line_per_scene_and_strategy_and_the_table():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "benchmarks/people_found.py", "--repeats", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {r["strategy"] for r in records} == {"whole_frame", "region_search"}
    assert len(records) == 12 and all(r["ms_min"] > 0 for r in records)
    assert "| scene | size | people |" in result.stdout


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
@pytest.mark.parametrize(
    "script",
    ["benchmarks/model_gpu.py", "benchmarks/pipeline_gpu.py", "benchmarks/tensorrt_agreement.py"],
)
def test_gpu_benchmarks_say_why_they_cannot_run_without_cuda(script):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "no CUDA device" in result.stderr, result.stderr


def test_overload_benchmark_prints_the_documented_keys(tmp_path):
    # A few seconds only: this checks that the script works, its figures are measured by hand.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ["PYTHONPATH"]])}
    plot = tmp_path / "latency.png"
    command = [sys.executable, "benchmarks/node_overload.py", "--seconds", "3", "--warmup", "1",
               "--rate", "15", "--width", "640", "--height", "360", "--detector", "full_frame",
               "--plot", str(plot), "--log", str(tmp_path / "node.log")]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("{")]
    record = json.loads(line)
    for key in ("frames_in", "frames_processed", "frames_dropped", "latency_ms_p50",
                "latency_ms_p95", "latency_ms_max", "rss_mb_start", "rss_mb_end"):  # fmt: skip
        assert key in record, key
    assert record["frames_in"] > 0 and record["frames_processed"] > 0 and plot.is_file()


def test_pipeline_benchmark_prints_frames_per_second_per_case_and_mode():
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
    assert [(r["people"], r["stages_run"]) for r in records] == [
        (1, "serial"), (1, "overlapped"), (3, "serial"), (3, "overlapped")
    ]  # fmt: skip
    for record in records:
        assert record["frames_per_s"] > 0 and record["backend"] == "torch"
        assert 0 < record["latency_ms"]["p50"] <= record["latency_ms"]["p95"]
        assert record["precision"] == "fp32" and record["cpu"]
        assert set(record["stages"]) == {"frontend", "tracking", "crops", "model", "lift", "total"}


def test_precision_accuracy_benchmark_says_what_cannot_run():
    """A pair the backend cannot run prints why (and nothing is timed or built for it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/precision_accuracy.py",
            *("--backend", "onnxruntime", "--precision", "int8", "--precision", "bf16"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    notes = {r["precision"]: r["note"] for r in records if "precision" in r}
    assert "openvino" in notes["int8"] and "bf16" in notes["bf16"]


def test_memory_breakdown_prints_rss_per_step_and_one_json_summary():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "benchmarks/memory_breakdown.py", "--backend", "torch",
         "--max-people", "1", "--warmup", "2", "--resets", "1", "--threads", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )  # fmt: skip
    (summary,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    steps = [record["step"] for record in summary["steps"]]
    assert steps[:3] == ["python", "imports", "torch model built"]
    assert "freed memory returned" in steps and steps[-1] == "after 1 stamp resets"
    assert all(record["rss_mb"] > 0 for record in summary["steps"])
    assert summary["backend"] == "torch" and summary["torch_weights_mb"] > 500
    assert summary["rss_after_warmup_mb"] > 0 and summary["cpu"]
