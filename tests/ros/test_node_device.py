"""GPU failures reach the running node as a camera would trigger them (uniformly coloured
frames, see fake_pipeline.FAULTS) and take the real ``DeviceGuard`` path: an out-of-memory frame
is retried, one that never fits is counted and skipped, a lost device moves inference to the CPU
and the diagnostics say so. The node keeps publishing throughout."""

from __future__ import annotations

import pytest
from camera import fake_node_graph
from diagnostic_msgs.msg import DiagnosticStatus
from graph import latest_status, status_values, wait_until
from test_node_faults import FAULT_NODE_ARGS, send_until_counted, solid


@pytest.fixture
def on_gpu(tmp_path):
    """A node whose test-double pipeline claims cuda:0, a camera and the node's outputs."""
    with fake_node_graph(
        FAULT_NODE_ARGS,
        tmp_path / "node.log",
        "device_probe",
        PYMAFX_TEST_FAULTS="1",
        PYMAFX_TEST_DEVICE="cuda:0",
    ) as g:
        yield g


def _values(g) -> dict[str, str]:
    return status_values(g.diagnostics, ": inference")


def test_gpu_faults_are_survived_counted_and_reported(on_gpu):
    g = on_gpu
    wait_until(lambda: _values(g).get("device") == "cuda:0", 5, "device cuda:0 reported")
    # Out of memory once: retried after freeing the cache, the frame is published.
    assert g.camera.round_trip(rgb=solid((0, 255, 255)), attempts=10).people
    wait_until(lambda: _values(g).get("device retries that succeeded") == "1", 5, "a retry")
    # Out of memory twice: the frame is skipped and counted, the next one goes through.
    send_until_counted(g, solid((255, 128, 0)), "frames failed: device_error")
    assert int(_values(g)["device frames lost"]) >= 1
    assert "out of memory twice" in g.node.log()
    assert g.camera.round_trip(attempts=10).people
    # A lost device: inference moves to the CPU, the frame is rerun there and published.
    assert g.camera.round_trip(rgb=solid((128, 0, 255)), attempts=10).people
    wait_until(lambda: _values(g).get("device") == "cpu", 5, "device cpu after the fallback")
    values = _values(g)
    assert values["device requested"] == "cuda:0"
    assert "unspecified launch failure" in values["device fallback"]
    status = latest_status(g.diagnostics, ": inference")
    assert status.level == DiagnosticStatus.WARN and "GPU failure" in status.message
    assert status.hardware_id == "cpu"
    assert g.camera.round_trip(attempts=10).people  # and it keeps working
    assert g.node.proc.poll() is None
