"""FrameResult -> SmplxPeople and ModelInfo -> SmplxModelInfo, on hand-made exact people.

The consumer check: smplx.SMPLX run on a message's own parameters gives its joints back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_pipeline import make_person
from rclpy.serialization import deserialize_message, serialize_message
from smplx_doubles import placeholder_model_info, placeholder_smplx
from std_msgs.msg import Header

from pymafx_ros.geometry.body_frames import SMPLX_TO_BODY
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import Box
from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.ros.message_builders import (
    box_to_roi,
    is_publishable,
    model_info_message,
    people_message,
)

K = Intrinsics(400.0, 400.0, 160.0, 120.0)
SMPLX_ARGS = (
    "global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose",
    "left_hand_pose", "right_hand_pose", "betas", "expression", "transl",
)  # fmt: skip


@pytest.fixture(scope="module")
def layer():
    return placeholder_smplx()


@pytest.fixture(scope="module")
def frame(layer) -> FrameResult:
    people = [make_person(layer, K, 320, 240, seed=s, x_offset=0.8 * s) for s in range(2)]
    for number, person in enumerate(people, start=1):
        person.track_id = f"p{number}"
    return FrameResult(
        people=people,
        intrinsics=K,
        image_width=320,
        image_height=240,
        placeholder_assets=True,
        placeholder_weights=False,
    )


def wire(msg):
    """The message as a subscriber gets it (serialised and back)."""
    return deserialize_message(serialize_message(msg), type(msg))


def quat_matrix(q) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()


def test_header_sizes_intrinsics_and_flags(frame):
    header = Header(frame_id="cam_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    msg = wire(people_message(header, frame, frame.people, ["p1", "p2"]))
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
        12, 345, "cam_optical",
    )  # fmt: skip
    assert (msg.image_width, msg.image_height) == (320, 240)
    assert (msg.fx, msg.fy, msg.cx, msg.cy) == (400.0, 400.0, 160.0, 120.0)
    assert msg.intrinsics_from_camera_info is True
    assert (msg.placeholder_assets, msg.placeholder_weights) == (True, False)
    assert [p.id for p in msg.people] == ["p1", "p2"]
    person = msg.people[0]
    assert len(person.joints) == len(person.joint_orientations) == 55
    assert len(person.keypoints_2d) == 110 and len(person.betas) == 10
    assert len(person.expression) == 50
    assert person.right_hand_valid and not person.left_hand_valid
    assert (person.left_hand_box.width, person.face_box.height) == (0, 0)  # absent parts
    assert person.right_hand_box.x_offset == 10 and person.right_hand_box.width == 30


def test_empty_frame_gives_an_empty_people_array(frame):
    empty = FrameResult([], K, 320, 240, True, True)
    msg = wire(people_message(Header(frame_id="cam"), empty, [], []))
    assert msg.people == [] and msg.image_width == 320


def test_smplx_consumer_reproduces_the_message_joints(frame, layer):
    msg = wire(people_message(Header(frame_id="cam"), frame, frame.people, ["p1", "p2"]))
    for person in msg.people:
        inputs = {
            name: torch.tensor(np.asarray(getattr(person, name), np.float32)[None])
            for name in SMPLX_ARGS
        }
        with torch.no_grad():
            joints = layer(**inputs).joints[0, :55].numpy()
        published = np.array([[p.x, p.y, p.z] for p in person.joints])
        assert np.abs(joints - published).max() < 1e-3  # metres


def test_orientations_and_root_pose_follow_the_documented_convention(frame):
    msg = people_message(Header(frame_id="cam"), frame, frame.people, ["p1", "p2"])
    for person, source in zip(msg.people, frame.people, strict=True):
        for j in (0, 7, 20, 54):
            expected = source.joint_rotations[j] @ SMPLX_TO_BODY
            actual = quat_matrix(person.joint_orientations[j])
            np.testing.assert_allclose(actual, expected, atol=1e-6)
        root = person.root_pose
        np.testing.assert_allclose(
            [root.position.x, root.position.y, root.position.z], source.joints[0], atol=1e-9
        )
        np.testing.assert_allclose(
            quat_matrix(root.orientation), source.joint_rotations[0] @ SMPLX_TO_BODY, atol=1e-6
        )
        # Upright person seen by a level camera: body z (up) points along -y (image up).
        assert quat_matrix(root.orientation)[1, 2] < -0.9


def test_non_finite_or_float32_overflowing_people_are_not_publishable(frame):
    good = frame.people[0]
    assert is_publishable(good)
    for field, value in [("body_pose", np.nan), ("joints", np.inf), ("transl", 1e39)]:
        broken = make_copy(good)
        getattr(broken, field)[0] = value
        assert not is_publishable(broken), field
    # A person without a REP-155 track id would name no valid TF frame.
    for bad_id in ("", "P1", "1p", "p-1", "p 1"):
        assert not is_publishable(make_copy(good, track_id=bad_id)), bad_id


def make_copy(person, **changes):
    from dataclasses import fields, replace

    return replace(
        person,
        **changes,
        **{
            f.name: getattr(person, f.name).copy()
            for f in fields(person)
            if isinstance(getattr(person, f.name), np.ndarray)
        },
    )


def test_box_to_roi_clips_and_rounds_outwards():
    roi = box_to_roi(Box(-5.5, 10.2, 30.4, 500.0), 320, 240)
    assert (roi.x_offset, roi.y_offset, roi.width, roi.height) == (0, 10, 31, 230)
    assert box_to_roi(Box(400, 0, 500, 10), 320, 240).width == 0  # outside the image
    assert box_to_roi(None, 320, 240).height == 0


def test_model_info_message(layer):
    info = placeholder_model_info()
    msg = wire(model_info_message(info, Header()))
    assert msg.model_type == "smplx"
    assert list(msg.joint_names) == list(info.joint_names)
    assert list(msg.joint_parents) == list(info.joint_parents) and msg.joint_parents[0] == -1
    np.testing.assert_array_equal(np.asarray(msg.faces).reshape(-1, 3), info.faces)
    assert msg.num_vertices == 10475 and (msg.num_betas, msg.num_expression_coeffs) == (10, 50)
    assert msg.flat_hand_mean and not msg.use_pca
    assert msg.placeholder_assets and msg.placeholder_weights
