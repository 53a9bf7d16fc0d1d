"""Broken model files stop the node before it publishes anything: within seconds, exit code 2,
a message naming the file, what is wrong and where the right one comes from."""

from __future__ import annotations

import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, start_fake_node
from model_files import data_dir_with, npy_bytes, tiny_checkpoint
from pymafx_ros.msg import SmplxModelInfo, SmplxPeople
from rclpy.qos import DurabilityPolicy, QoSProfile

pytestmark = pytest.mark.slow

REFUSED_WITHIN_S = 20.0  # process start and imports on a loaded 2-core machine included


@pytest.fixture(scope="module")
def listener():
    probe = Probe("broken_files_probe")
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    heard = [
        probe.collect(SmplxPeople, "/pymafx/people"),
        probe.collect(SmplxModelInfo, "/pymafx/model_info", latched),
        probe.collect(DiagnosticArray, "/diagnostics"),
    ]
    yield heard
    probe.close()


def broken_data(tmp_path, relative: str, content: bytes | None) -> list[str]:
    return ["-p", f"data_dir:={data_dir_with(tmp_path / 'data', relative, content)}"]


def not_a_checkpoint(tmp_path) -> list[str]:
    (tmp_path / "x.pt").write_bytes(b"x")
    return ["-p", f"checkpoint:={tmp_path / 'x.pt'}"]


def misshaped_checkpoint(tmp_path) -> list[str]:
    path = tiny_checkpoint(tmp_path / "c.pt", reshape={"regressor.0.decpose.weight": (2, 2)})
    return ["-p", f"checkpoint:={path}"]


CASES = {
    "missing file": (
        lambda tmp: broken_data(tmp, "smpl/MANO_RIGHT.pkl", None),
        ["smpl/MANO_RIGHT.pkl: file not found", "mano.is.tue.mpg.de"],
    ),
    "wrong shape": (
        lambda tmp: broken_data(
            tmp, "J_regressor_extra.npy", npy_bytes(np.zeros((9, 10), np.float32))
        ),
        ["J_regressor_extra.npy: the array has shape (9, 10)"],
    ),
    "not a checkpoint": (not_a_checkpoint, ["x.pt: not a torch checkpoint"]),
    "mis-shaped keys": (
        misshaped_checkpoint,
        ["c.pt: does not match the PyMAF-X v1.1 model", "regressor.0.decpose.weight (2, 2)"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_files_refuse_to_start_naming_the_file(tmp_path, listener, case):
    make_args, needles = CASES[case]
    args = make_args(tmp_path)
    start = time.monotonic()
    node = start_fake_node(args, tmp_path / "node.log")
    code = node.wait(60)
    elapsed = time.monotonic() - start
    print(f"\n[figure] {case}: exit {code} after {elapsed:.1f} s")
    log = node.log()
    assert code == 2 and elapsed < REFUSED_WITHIN_S, (elapsed, log)
    assert "refusing to start: broken model files" in log and "pymafx-ros check" in log
    for needle in needles:
        assert needle in log, log
    assert "Traceback" not in log
    time.sleep(0.5)  # anything published would have arrived by now
    assert [len(messages) for messages in listener] == [0, 0, 0]
