"""Restarts and changes a camera goes through, against the real node (in this process, over
DDS): the node up before the camera, the camera stopping and coming back, CameraInfo arriving
late or changing resolution and intrinsics mid-stream, and stamps jumping back (a bag played in
a loop), which must reach the front end unchanged so that it restarts its tracking."""

from __future__ import annotations

import time

import numpy as np
import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from fake_pipeline import FakePipeline
from graph import Probe, stamp_ns, status_values, wait_until
from inprocess import InProcessNode
from pymafx_ros.msg import SmplxPeople
from sensor_msgs.msg import CameraInfo

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.frame_clock import FrameClock, FrameKind
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.ros.conversions import intrinsics_to_camera_info

pytestmark = pytest.mark.slow  # DDS graph


class RecordingPipeline(FakePipeline):
    """The test-double pipeline, remembering what each call was given."""

    def __init__(self) -> None:
        super().__init__(PipelineConfig(default_fov_deg=60.0, with_vertices=False))
        self.calls: list[tuple[tuple[int, int], Intrinsics | None, int | None]] = []

    def process(self, rgb, intrinsics=None, timestamp_ms=None, boxes=None):
        self.calls.append((rgb.shape[:2], intrinsics, timestamp_ms))
        return super().process(rgb, intrinsics, timestamp_ms, boxes)


@pytest.fixture
def live():
    """A running node; no camera yet."""
    node = InProcessNode(
        RecordingPipeline(),
        detector="full_frame",
        **{"diagnostics.period_s": 0.2, "markers.enable": False, "overlay.enable": False},
    )
    probe = Probe("changes_probe")
    g = type("Live", (), {})()
    g.node, g.probe = node, probe
    g.people = probe.collect(SmplxPeople, "/pymafx/people")
    g.diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    try:
        yield g
    finally:
        probe.close()
        node.close()


def camera_on(g) -> TestCamera:
    camera = TestCamera(g.probe, g.people)
    wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 20, "the node")
    return camera


def test_node_started_before_the_camera(live):
    time.sleep(1.0)  # the node waits for a camera that is not there yet
    assert status_values(live.diagnostics, ": input").get("frames received") == "0"
    assert camera_on(live).round_trip(attempts=10).people


def test_camera_stopping_and_coming_back(live):
    first = camera_on(live)
    assert first.round_trip(attempts=10).people
    live.probe.node.destroy_publisher(first.image_pub)  # the driver goes away ...
    live.probe.node.destroy_publisher(first.info_pub)
    wait_until(lambda: status_values(live.diagnostics, ": input").get("input rate (Hz)") == "0.00",
               10, "the input rate to fall to 0")  # fmt: skip
    assert status_values(live.diagnostics, ": inference")["state"] == "running"
    again = camera_on(live)  # ... and comes back (a new publisher)
    assert again.round_trip(attempts=10).people
    assert status_values(live.diagnostics, ": inference").get("frames failed") == "0"


def test_camera_info_arriving_late(live):
    camera = camera_on(live)
    early = camera.round_trip(attempts=10, camera_info=None)
    assert not early.intrinsics_from_camera_info
    assert early.fx == pytest.approx(128.0 / np.tan(np.radians(30.0)))  # default 60 deg
    late = camera.round_trip(attempts=10)  # now with CameraInfo
    assert late.intrinsics_from_camera_info and late.fx == 250.0


def test_resolution_and_intrinsics_changing_mid_stream(live):
    camera = camera_on(live)
    big = camera.round_trip(attempts=10)
    assert (big.image_width, big.image_height, big.fx) == (256, 256, 250.0)
    small_frame = camera.frames[0][::2, ::2].copy()
    new_k = intrinsics_to_camera_info(Intrinsics(140.0, 141.0, 64.0, 63.0), 128, 128)
    small = camera.round_trip(attempts=10, rgb=small_frame, camera_info=new_k)
    assert (small.image_width, small.image_height) == (128, 128)
    assert (small.fx, small.fy, small.cx, small.cy) == (140.0, 141.0, 64.0, 63.0)
    # A CameraInfo still for the old size of the same aspect ratio is rescaled ...
    old_k = intrinsics_to_camera_info(Intrinsics(250.0, 250.0, 128.0, 128.0), 256, 256)
    rescaled = camera.round_trip(attempts=10, rgb=small_frame, camera_info=old_k)
    assert (rescaled.fx, rescaled.cx) == (125.0, 64.0) and rescaled.intrinsics_from_camera_info
    # ... one for another aspect ratio cannot be: default intrinsics, counted and said.
    wide = intrinsics_to_camera_info(Intrinsics(250.0, 250.0, 160.0, 120.0), 320, 240)
    fallback = camera.round_trip(attempts=10, rgb=small_frame, camera_info=wide)
    assert not fallback.intrinsics_from_camera_info
    wait_until(
        lambda: int(status_values(live.diagnostics, ": input").get("rejected: camera_info", 0)),
        5,
        "the camera_info rejection",
    )


def test_bad_camera_info_is_refused_and_the_last_good_one_kept(live):
    camera = camera_on(live)
    assert camera.round_trip(attempts=10).fx == 250.0
    broken = CameraInfo(width=256, height=256)
    broken.k = [float("nan"), 0.0, 128.0, 0.0, -5.0, 128.0, 0.0, 0.0, 1.0]
    message = camera.round_trip(attempts=10, camera_info=broken)
    assert message.intrinsics_from_camera_info and message.fx == 250.0
    wait_until(
        lambda: int(status_values(live.diagnostics, ": input").get("rejected: camera_info", 0)),
        5,
        "the camera_info rejection",
    )


def test_stamps_going_back_reach_the_front_end_and_restart_tracking(live):
    camera = camera_on(live)
    base = 1_700_000_000 * 10**9
    stamps = [base, base + 33_000_000, base + 66_000_000, base - 5 * 10**9, base - 4_967_000_000]
    for at in stamps:  # one at a time: the newest-frame slot would skip some otherwise
        message = camera.round_trip(attempts=10, at_ns=at)
        assert stamp_ns(message.header) == at  # outputs carry the image's own stamp
    given = [ms for _, _, ms in live.node.pipeline.calls[-len(stamps) :]]
    assert given == [at // 10**6 for at in stamps]  # not pushed forward
    clock = FrameClock()
    kinds = [clock.classify(ms) for ms in given]
    assert kinds[3] is FrameKind.RESTART and kinds[4] is FrameKind.NEXT


def test_a_camera_without_a_clock_gives_independent_images(live):
    camera = camera_on(live)
    camera.round_trip(attempts=10, at_ns=0)
    assert live.node.pipeline.calls[-1][2] is None
