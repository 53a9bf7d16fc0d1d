"""benchmarks/process_bag.py runs and prints its CPU line and the smoothing figures (the
process-bag and Ray figures are measured by running it, never by tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_prints_cpu_and_smoothing_figures():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "benchmarks/process_bag.py", "--smoothing-only"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert records[0]["cpu"] and "cpu_flags" in records[0]
    modes = {r["mode"]: r for r in records[1:]}
    assert (
        modes["offline"]["jitter_mm"] < modes["causal"]["jitter_mm"] < modes["none"]["jitter_mm"]
    )
