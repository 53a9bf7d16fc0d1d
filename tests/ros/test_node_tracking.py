"""The node's people over time, across processes (real node, test-double people, the real
tracking stage): stable ids and smoothed values, ~/hands for retargeting, ~/world_bodies once TF
gives the world frame, and the tracking diagnostics that say what the filter buys."""

from __future__ import annotations

import numpy as np
import pytest
from camera import FRAME_ID, fake_node_graph
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import TransformStamped
from graph import stamp_ns, wait_until
from pymafx_ros.msg import HandKeypoints, HandKeypointsArray, WorldBodies
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from scipy.spatial.transform import Rotation
from tf2_msgs.msg import TFMessage

NODE_ARGS = [
    "-p", "detector:=full_frame",
    "-p", "world_frame:=map",
    "-p", "hands.wrist_frame:=operator",
    "-p", "diagnostics.period_s:=0.3",
    "-p", "markers.enable:=false",
]  # fmt: skip
STATIC = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
# The camera 1.5 m above the map origin looking along the map's x axis (REP-103 optical axes).
CAMERA_IN_MAP = Rotation.from_euler("ZX", [-90, -90], degrees=True)
CAMERA_AT = np.array([0.0, 0.0, 1.5])
WORLD = "/pymafx/world_bodies"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    topics = {"hands": (HandKeypointsArray, "/pymafx/hands"), "world": (WorldBodies, WORLD)}
    log = tmp_path_factory.mktemp("node") / "node.log"
    with fake_node_graph(NODE_ARGS, log, "tracking_probe", topics, PYMAFX_TEST_PEOPLE="2") as g:
        yield g


def tracking_status(graph):
    for array in reversed(list(graph.diagnostics)):
        for status in array.status:
            if status.name == "pymafx: tracking":
                return status, {kv.key: kv.value for kv in status.values}
    return None, {}


def test_ids_stay_and_later_frames_are_smoothed(graph):
    messages = [graph.camera.round_trip() for _ in range(4)]
    ids = [sorted(p.id for p in m.people) for m in messages]
    assert ids == [["p1", "p2"]] * 4
    assert all(m.smoothing for m in messages)
    assert all(p.smoothed and p.age_frames > 1 for p in messages[-1].people)


def test_hands_carry_the_image_header_and_match_the_people(graph):
    people = graph.camera.round_trip()
    stamp = stamp_ns(people.header)
    wait_until(lambda: any(stamp_ns(h.header) == stamp for h in graph.hands), 5, "hands")
    hands = next(h for h in graph.hands if stamp_ns(h.header) == stamp)
    assert hands.header.frame_id == FRAME_ID and hands.smoothing
    by_person = {p.id: p for p in people.people}
    assert [(h.person_id, h.side) for h in hands.hands] == [
        (pid, side) for pid in [p.id for p in people.people] for side in (0, 1)
    ]
    for hand in hands.hands:
        person = by_person[hand.person_id]
        wrist_joint = person.joints[20 if hand.side == HandKeypoints.LEFT else 21]
        position = hand.wrist_pose.position
        np.testing.assert_allclose(
            [position.x, position.y, position.z], [wrist_joint.x, wrist_joint.y, wrist_joint.z]
        )
        assert hand.valid == (
            person.left_hand_valid if hand.side == HandKeypoints.LEFT else person.right_hand_valid
        )
        assert hand.wrist_frame == "operator" and len(hand.keypoints_wrist) == 21
        # keypoints_camera = wrist + R * keypoints_wrist
        q = hand.wrist_pose.orientation
        rotation = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()
        local = np.array([[p.x, p.y, p.z] for p in hand.keypoints_wrist])
        camera = np.array([[p.x, p.y, p.z] for p in hand.keypoints_camera])
        np.testing.assert_allclose(camera, local @ rotation.T + camera[0], atol=1e-6)


def test_world_bodies_wait_for_tf_then_follow_it(graph):
    graph.camera.round_trip()

    def waiting_for_tf() -> bool:  # the status of a diagnostics tick after that frame
        status, values = tracking_status(graph)
        return (
            status is not None
            and status.level == DiagnosticStatus.WARN
            and ("'map'" in values["world bodies"])
        )

    wait_until(waiting_for_tf, 5, "tracking diagnostics warning that TF to 'map' is missing")
    assert not graph.world
    # Once the camera mount is on /tf_static, bodies come out in the map frame.
    mount = TransformStamped()
    mount.header.frame_id, mount.child_frame_id = "map", FRAME_ID
    mount.transform.translation.z = float(CAMERA_AT[2])
    x, y, z, w = CAMERA_IN_MAP.as_quat()
    mount.transform.rotation.x, mount.transform.rotation.y = x, y
    mount.transform.rotation.z, mount.transform.rotation.w = z, w
    static = graph.probe.publisher(TFMessage, "/tf_static", STATIC)
    static.publish(TFMessage(transforms=[mount]))
    for _ in range(20):
        people = graph.camera.round_trip()
        stamp = stamp_ns(people.header)
        if any(stamp_ns(m.header) == stamp for m in graph.world):
            break
    world = next(m for m in graph.world if stamp_ns(m.header) == stamp)
    assert world.header.frame_id == "map" and world.joint_names[:2] == ["pelvis", "left_hip"]
    assert [b.id for b in world.bodies] == [p.id for p in people.people]
    for body, person in zip(world.bodies, people.people, strict=True):
        camera_joints = np.array([[p.x, p.y, p.z] for p in person.joints])
        expected = camera_joints @ CAMERA_IN_MAP.as_matrix().T + CAMERA_AT
        got = np.array([[p.x, p.y, p.z] for p in body.positions])
        np.testing.assert_allclose(got, expected, atol=1e-6)
        # A person standing in front of the camera is upright in the map: the SMPL-X pelvis
        # y axis (up in the rest pose) points along the map's z, give or take the pose noise.
        q = body.orientations[0]
        up = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()[:, 1]
        assert up[2] > 0.8
    wait_until(lambda: tracking_status(graph)[0].level == DiagnosticStatus.OK, 5, "OK")
    _, values = tracking_status(graph)
    assert values["world bodies"] == "publishing in 'map'"
    assert values["smoothing"] == "on" and values["tracks"] == "2"
    raw, published = map(float, values["p1 joint jitter raw/published (mm)"].split("/"))
    assert published < raw  # the fake's poses jump every frame: the filter calms them
    lag_position, lag_rotation = map(
        float, values["p1 filter lag position/rotation (ms)"].split("/")
    )
    assert lag_position > 0 and lag_rotation > 0
