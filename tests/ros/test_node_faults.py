"""Injected failures reach the running node as a camera would send them (uniformly coloured
frames make the test-double pipeline fail, see fake_pipeline.FAULTS). Whatever fails, the node
logs it, counts it, and goes on processing the next frame; a dead inference thread is reported
as ERROR and restarted; people with non-finite numbers are dropped, the others published; the
core's Python logging reaches /rosout."""

from __future__ import annotations

import time

import numpy as np
import pytest
from camera import fake_node_graph
from diagnostic_msgs.msg import DiagnosticStatus
from graph import latest_status, status_values, wait_until
from pymafx_ros.msg import SmplxPeople
from rcl_interfaces.msg import Log
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo

pytestmark = pytest.mark.slow  # subprocess graph

SIZE = 64


def solid(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((SIZE, SIZE, 3), rgb, np.uint8)


# People are published from their first frame: fault frames change who is there.
FAULT_NODE_ARGS = [
    "-p", "detector:=full_frame",
    "-p", "diagnostics.period_s:=0.2",
    "-p", "tracking.confirm_frames:=1",
]  # fmt: skip


@pytest.fixture
def faulty(tmp_path):
    """A fresh node over the fault-injecting test pipeline, a camera and the node's outputs."""
    with fake_node_graph(
        FAULT_NODE_ARGS, tmp_path / "node.log", "faults_probe", PYMAFX_TEST_FAULTS="1"
    ) as g:
        yield g


def send_until_counted(g, rgb, key: str, suffix: str = ": inference", **send) -> None:
    """Send ``rgb`` until the diagnostics count ``key`` (sensor-data QoS may lose a frame)."""
    before = int(status_values(g.diagnostics, suffix).get(key, 0))
    for _ in range(10):
        g.camera.send(rgb=rgb, **send)
        try:
            wait_until(
                lambda: int(status_values(g.diagnostics, suffix).get(key, 0)) > before, 2, key
            )
            return
        except AssertionError:
            continue
    raise AssertionError(f"'{key}' never counted:\n{g.node.log()}")


def test_an_error_after_a_warning_does_not_stop_inference(faulty):
    # An uncalibrated camera logs a WARN first (the defect: the later ERROR from the same
    # throttled call site raised inside the handler and killed the inference thread).
    faulty.camera.round_trip(camera_info=CameraInfo(width=SIZE, height=SIZE))
    wait_until(lambda: "uncalibrated" in faulty.node.log(), 5, "the CameraInfo warning")
    send_until_counted(faulty, solid((0, 255, 0)), "frames failed: internal_error")
    send_until_counted(faulty, solid((255, 0, 0)), "frames failed: processing_error")
    assert faulty.camera.round_trip().people  # the next frame is processed
    log = faulty.node.log()
    assert "Logger severity cannot be changed" not in log and "Traceback" in log, log
    assert "[ERROR]" in log and "AttributeError" in log  # logged with what went wrong
    wait_until(
        lambda: status_values(faulty.diagnostics, ": inference").get("state") == "running",
        5,
        "state running",
    )


def test_a_dead_inference_thread_is_reported_and_restarted(faulty):
    started = time.monotonic()
    send_until_counted(faulty, solid((0, 0, 255)), "inference thread restarts")
    status = latest_status(faulty.diagnostics, ": inference")
    assert status.level == DiagnosticStatus.ERROR and "restarted" in status.message
    assert "SystemExit" in status_values(faulty.diagnostics, ": inference")["last thread failure"]
    assert faulty.camera.round_trip(attempts=10).people  # working again
    print(f"\n[figure] thread killed -> restarted and a frame answered in "
          f"{time.monotonic() - started:.2f} s")  # fmt: skip
    wait_until(
        lambda: latest_status(faulty.diagnostics, ": inference").level == DiagnosticStatus.OK,
        5,
        "OK once a frame went through",
    )
    assert "inference thread died" in faulty.node.log()


def finite_people(message: SmplxPeople) -> bool:
    values = [
        v
        for p in message.people
        for v in (*p.body_pose, *p.betas, *p.transl, *p.keypoints_2d,
                  *(c for j in p.joints for c in (j.x, j.y, j.z)))
    ]  # fmt: skip
    return bool(np.isfinite(values).all())


@pytest.mark.parametrize(("colour", "published"), [((255, 0, 255), 1), ((255, 255, 0), 0)])
def test_non_finite_people_are_dropped_the_others_published(faulty, colour, published):
    # Two people per frame, the second (or both) with a NaN joint from the model.
    key = "people dropped (non-finite)"
    before = int(status_values(faulty.diagnostics, ": inference").get(key, 0))
    message = faulty.camera.round_trip(rgb=solid(colour))
    assert len(message.people) == published and finite_people(message)
    wait_until(
        lambda: (
            int(status_values(faulty.diagnostics, ": inference").get(key, 0))
            == before + 2 - published
        ),
        5,
        "the count",
    )
    wait_until(lambda: "non-finite" in faulty.node.log(), 5, "the warning")
    assert all(finite_people(m) for m in list(faulty.people))


def test_core_python_logging_reaches_rosout_under_the_node_name(faulty):
    rosout_qos = QoSProfile(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    logs = faulty.probe.collect(Log, "/rosout", rosout_qos)
    needle = "[pymafx_ros.test_double] test double loaded"
    wait_until(lambda: any(needle in m.msg for m in list(logs)), 10, "the forwarded record")
    record = next(m for m in list(logs) if needle in m.msg)
    assert record.name == "pymafx" and record.level == Log.WARN
