"""FramePublisher on a real node, its messages received over DDS: what goes out for one frame,
what never does (non-finite people), the marker rate limit, the overlay only while subscribed,
and the latched model description. It owns its publishers, so nothing else of a node is needed.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from fake_pipeline import make_person
from graph import Probe, wait_until
from pymafx_ros.msg import SmplxModelInfo, SmplxPeople
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from smplx_doubles import placeholder_model_info, placeholder_smplx
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.ros.publishing import FramePublisher, OutputOptions

K = Intrinsics(200.0, 200.0, 80.0, 60.0)
IMAGE = np.zeros((120, 160, 3), np.uint8)
_names = (f"publishing_{i}" for i in itertools.count())


@pytest.fixture(scope="module")
def layer():
    return placeholder_smplx()


class Outputs:
    """A real node with a FramePublisher, and subscribers to everything it publishes."""

    def __init__(self, options: OutputOptions) -> None:
        self.probe = Probe(next(_names))
        self.node = self.probe.node
        # Each test's node has its own name, so its ~/ topics are its own.
        self.publisher = FramePublisher(self.node, options)
        ns = self.node.get_fully_qualified_name()
        self.people = self.probe.collect(SmplxPeople, f"{ns}/people")
        self.markers = self.probe.collect(MarkerArray, f"{ns}/markers")
        self.tf = self.probe.collect(TFMessage, "/tf", QoSProfile(depth=100))
        self.publisher.model_loaded(placeholder_model_info())

    def publish(self, ms: int, people, image=IMAGE):
        """Publish one frame stamped ``ms``; wait until its people message arrived."""
        count = len(self.people)
        counts = self.publisher.publish_frame(header_at(ms), image, frame_of(people))
        wait_until(lambda: len(self.people) > count, 10, "the people message")
        return counts

    def close(self) -> None:
        self.probe.close()


@pytest.fixture
def outputs():
    made: list[Outputs] = []

    def make(**overrides) -> Outputs:
        made.append(Outputs(replace(OutputOptions(), **overrides)))
        return made[-1]

    yield make
    for out in made:
        out.close()


def frame_of(people) -> FrameResult:
    return FrameResult(list(people), K, 160, 120, True, True, {"total": 1.0})


def header_at(ms: int) -> Header:
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = divmod(ms * 1_000_000, 1_000_000_000)
    return header


def test_loading_publishes_the_latched_description(outputs):
    out = outputs()
    late = out.probe.collect(
        SmplxModelInfo,
        f"{out.node.get_fully_qualified_name()}/model_info",
        QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL),
    )
    wait_until(lambda: late, 10, "the latched description")
    assert out.publisher.ready and late[0].joint_names[0] == "pelvis"


def test_non_finite_people_are_dropped_and_counted(outputs, layer):
    out = outputs()
    good = make_person(layer, K, 160, 120, seed=1)
    bad = replace(good, joints=good.joints.copy())
    bad.joints[3, 1] = np.nan
    assert out.publish(0, [good, bad]) == (1, 1)
    (people,) = out.people
    assert len(people.people) == 1
    values = [v for p in people.people for v in (*p.body_pose, *p.betas, *p.keypoints_2d)]
    assert np.isfinite(values).all()
    wait_until(lambda: out.tf, 10, "the transforms")
    assert {t.child_frame_id for t in out.tf[0].transforms} >= {"body_p1", "head_p1"}


def test_a_repeated_stamp_sends_no_second_tf(outputs, layer):
    out = outputs()
    person = make_person(layer, K, 160, 120, seed=4)
    for ms in (10, 10, 20):
        out.publish(ms, [person])
    wait_until(lambda: len(out.tf) >= 2, 10, "the transforms")
    assert [m.transforms[0].header.stamp.nanosec // 1_000_000 for m in out.tf] == [10, 20]


def test_empty_frames_publish_empty_people_and_no_tf(outputs):
    out = outputs()
    out.publish(0, [])
    assert out.people[0].people == []
    out.publish(10, [])  # ordered delivery: anything for the first frame would have come
    assert out.tf == []


def test_markers_follow_the_rate_limit_in_image_time(outputs, layer):
    out = outputs(markers_max_rate_hz=5.0)
    person = make_person(layer, K, 160, 120, seed=2)
    for ms in (0, 100, 199, 200, 350, 400):
        out.publish(ms, [person])
    assert len(out.people) == 6  # people go out for every frame ...
    wait_until(lambda: len(out.markers) >= 3, 10, "the markers")
    stamps = [m.markers[0].header.stamp.nanosec // 1_000_000 for m in out.markers]
    assert stamps == [0, 200, 400]  # ... markers at most every 200 ms of image time


def test_overlay_is_drawn_only_while_subscribed(outputs, layer):
    out = outputs()
    person = make_person(layer, K, 160, 120, seed=3)
    image = np.full((120, 160, 3), 90, np.uint8)
    out.publish(0, [person], image)
    overlay = out.probe.collect(Image, f"{out.node.get_fully_qualified_name()}/overlay")
    out.publish(50, [person], image)
    wait_until(lambda: overlay, 10, "the overlay")
    assert [o.header.stamp.nanosec for o in overlay] == [50_000_000]  # not the first frame
    (shown,) = overlay
    assert (shown.width, shown.height, shown.encoding, shown.step) == (160, 120, "rgb8", 480)
    assert bytes(shown.data) != image.tobytes()


def test_stopping_clears_every_marker(outputs, layer):
    out = outputs()
    out.publisher.clear_markers()
    wait_until(lambda: out.markers, 10, "the DELETEALL")
    assert [m.action for m in out.markers[0].markers] == [Marker.DELETEALL]


def test_disabled_outputs_have_no_publishers(outputs):
    out = outputs(tf_enable=False, markers_enable=False, overlay_enable=False, hands_enable=False)
    topics = {name for name, _ in out.node.get_publisher_names_and_types_by_node(
        out.node.get_name(), out.node.get_namespace())}  # fmt: skip
    assert not {"/tf"} & topics
    assert not any(t.endswith(("markers", "overlay", "hands", "world_bodies")) for t in topics)
    assert out.publisher.tf_mechanism == "disabled"
