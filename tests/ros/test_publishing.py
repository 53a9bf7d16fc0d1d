"""FramePublisher on a stand-in node: what goes out for one frame, what never does (non-finite
people), the marker rate limit, and the overlay only while someone subscribes."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from fake_pipeline import make_person
from rclpy.serialization import deserialize_message
from smplx_doubles import placeholder_model_info, placeholder_smplx
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from pymafx_ros.pipeline.result import FrameResult, Intrinsics
from pymafx_ros.ros.diagnostics import NodeStats
from pymafx_ros.ros.parameters import defaults, validate
from pymafx_ros.ros.publishing import FramePublisher

K = Intrinsics(200.0, 200.0, 80.0, 60.0)


class Recorder:
    def __init__(self, subscribers: int = 0) -> None:
        self.sent: list = []
        self.subscribers = subscribers

    def publish(self, msg) -> None:
        self.sent.append(msg)

    def get_subscription_count(self) -> int:
        return self.subscribers

    def wait_for_all_acked(self, timeout) -> bool:
        return True


class StubNode:
    """The attributes FramePublisher uses of PymafxNode, recording what is published."""

    def __init__(self, **overrides) -> None:
        self.params = validate({**defaults(), **overrides})
        self.stats = NodeStats()
        self.people_pub, self.model_info_pub = Recorder(), Recorder()
        self.markers_pub, self.overlay_pub = Recorder(), Recorder()
        self.hands_pub, self.world = Recorder(), None
        self.transforms: list = []
        self.send_tf = self.transforms.append
        self.logged: list[str] = []

    def get_clock(self):
        return SimpleNamespace(now=lambda: SimpleNamespace(to_msg=Time))

    def get_logger(self):
        return SimpleNamespace(error=self.logged.append, info=self.logged.append)


@pytest.fixture(scope="module")
def layer():
    return placeholder_smplx()


def frame_of(people) -> FrameResult:
    return FrameResult(list(people), K, 160, 120, True, True, {"total": 1.0})


def header_at(ms: int) -> Header:
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = divmod(ms * 1_000_000, 1_000_000_000)
    return header


def loaded(layer, **overrides):
    node = StubNode(**overrides)
    publisher = FramePublisher(node, "test")
    publisher.model_loaded(placeholder_model_info())
    return node, publisher


def test_loading_publishes_the_description_and_warns_about_placeholders(layer):
    node, publisher = loaded(layer)
    assert publisher.ready and len(node.model_info_pub.sent) == 1
    assert any("MEANINGLESS" in line for line in node.logged)
    assert node.stats.snapshot().info["placeholder_weights"] == "True"


def test_non_finite_people_are_dropped_and_counted(layer):
    node, publisher = loaded(layer)
    good = make_person(layer, K, 160, 120, seed=1)
    bad = replace(good, joints=good.joints.copy())
    bad.joints[3, 1] = np.nan
    published, dropped = publisher.publish_frame(
        header_at(0), np.zeros((120, 160, 3), np.uint8), frame_of([good, bad])
    )
    assert (published, dropped) == (1, 1)
    (people,) = node.people_pub.sent
    assert len(people.people) == 1
    values = [v for p in people.people for v in (*p.body_pose, *p.betas, *p.keypoints_2d)]
    assert np.isfinite(values).all()
    (transforms,) = node.transforms
    assert {t.child_frame_id for t in transforms} >= {"body_p1", "head_p1"}


def test_a_repeated_stamp_sends_no_second_tf(layer):
    node, publisher = loaded(layer)
    person = make_person(layer, K, 160, 120, seed=4)
    image = np.zeros((120, 160, 3), np.uint8)
    for ms in (10, 10, 20):
        publisher.publish_frame(header_at(ms), image, frame_of([person]))
    assert len(node.people_pub.sent) == 3
    assert [t[0].header.stamp.nanosec // 1_000_000 for t in node.transforms] == [10, 20]


def test_empty_frames_publish_empty_people_and_no_tf(layer):
    node, publisher = loaded(layer)
    publisher.publish_frame(header_at(0), np.zeros((120, 160, 3), np.uint8), frame_of([]))
    assert node.people_pub.sent[0].people == [] and node.transforms == []


def test_markers_follow_the_rate_limit_in_image_time(layer):
    node, publisher = loaded(layer, **{"markers.max_rate_hz": 5.0})
    person = make_person(layer, K, 160, 120, seed=2)
    for ms in (0, 100, 199, 200, 350, 400):
        publisher.publish_frame(
            header_at(ms), np.zeros((120, 160, 3), np.uint8), frame_of([person])
        )
    assert len(node.people_pub.sent) == 6  # people go out for every frame ...
    stamps = [
        deserialize_message(raw, MarkerArray).markers[0].header.stamp.nanosec // 1_000_000
        for raw in node.markers_pub.sent
    ]
    assert stamps == [0, 200, 400]  # ... markers at most every 200 ms of image time


def test_overlay_is_drawn_only_while_subscribed(layer):
    node, publisher = loaded(layer)
    person = make_person(layer, K, 160, 120, seed=3)
    image = np.full((120, 160, 3), 90, np.uint8)
    publisher.publish_frame(header_at(0), image, frame_of([person]))
    assert node.overlay_pub.sent == []
    node.overlay_pub.subscribers = 1
    publisher.publish_frame(header_at(50), image, frame_of([person]))
    (overlay,) = node.overlay_pub.sent
    assert (overlay.width, overlay.height, overlay.encoding, overlay.step) == (
        160,
        120,
        "rgb8",
        480,
    )
    assert overlay.header.stamp.nanosec == 50_000_000
    assert bytes(overlay.data) != image.tobytes()


def test_stopping_clears_every_marker(layer):
    node, publisher = loaded(layer)
    publisher.clear_markers()
    (raw,) = node.markers_pub.sent
    assert [m.action for m in deserialize_message(raw, MarkerArray).markers] == [Marker.DELETEALL]


def test_timestamps_for_the_detector_only_move_forward(layer):
    _, publisher = loaded(layer)
    stamps = [publisher.next_timestamp_ms(header_at(ms)) for ms in (1000, 1000, 900, 1500)]
    assert stamps == [1000, 1001, 1002, 1500]
