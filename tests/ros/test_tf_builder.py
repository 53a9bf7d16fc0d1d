"""TF of a person: names, parents, one transform per child, and chains that land on the joints."""

from __future__ import annotations

import numpy as np
import pytest
from fake_pipeline import make_person
from mini_tf import transform_matrix
from smplx_doubles import placeholder_model_info, placeholder_smplx
from std_msgs.msg import Header

from pymafx_ros.geometry.body_frames import JOINT_SETS, SMPLX_TO_BODY, published_parents
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.ros.tf_builder import person_transforms

K = Intrinsics(400.0, 400.0, 160.0, 120.0)


@pytest.fixture(scope="module")
def setup():
    layer = placeholder_smplx()
    return placeholder_model_info(), make_person(layer, K, 320, 240, seed=3)


def transforms_for(setup, joints="all", prefix=""):
    info, person = setup
    header = Header(frame_id="cam_optical")
    header.stamp.sec = 42
    return person_transforms(
        header, person, "p4", info.joint_names, info.joint_parents, JOINT_SETS[joints], prefix
    )


@pytest.mark.parametrize(("joints", "count"), [("body", 22), ("body_hands", 52), ("all", 55)])
def test_one_transform_per_child_with_image_stamp(setup, joints, count):
    out = transforms_for(setup, joints)
    children = [t.child_frame_id for t in out]
    assert len(children) == count + 1 == len(set(children))  # body_<id> + joints, no repeats
    assert all(t.header.stamp.sec == 42 for t in out)
    assert out[0].header.frame_id == "cam_optical" and out[0].child_frame_id == "body_p4"
    assert out[1].header.frame_id == "body_p4" and out[1].child_frame_id == "pelvis_p4"
    # Every parent is published before its children: a tree rooted at the image frame.
    seen = {"cam_optical"}
    for t in out:
        assert t.header.frame_id in seen, t.child_frame_id
        seen.add(t.child_frame_id)


def test_hand_joints_hang_off_the_wrists(setup):
    parents = {t.child_frame_id: t.header.frame_id for t in transforms_for(setup, "body_hands")}
    assert parents["left_index1_p4"] == "left_wrist_p4"
    assert parents["right_thumb1_p4"] == "right_wrist_p4"
    assert "jaw_p4" not in parents


def test_prefix_applies_to_every_frame(setup):
    out = transforms_for(setup, "body", prefix="humans/")
    assert out[0].child_frame_id == "humans/body_p4"
    assert all(t.child_frame_id.startswith("humans/") for t in out)
    assert all(t.header.frame_id.startswith("humans/") for t in out[1:])


def test_chains_reproduce_joint_positions_and_orientations(setup):
    info, person = setup
    out = transforms_for(setup, "all")
    edges = {t.child_frame_id: (t.header.frame_id, transform_matrix(t.transform)) for t in out}
    for j, name in enumerate(info.joint_names):
        frame, pose = f"{name}_p4", np.eye(4)
        while frame != "cam_optical":
            parent, matrix = edges[frame]
            pose, frame = matrix @ pose, parent
        np.testing.assert_allclose(pose[:3, 3], person.joints[j], atol=1e-9)
        np.testing.assert_allclose(
            pose[:3, :3], person.joint_rotations[j] @ SMPLX_TO_BODY, atol=1e-9
        )


def test_rest_pose_frames_are_aligned_with_the_body_frame(setup):
    info, person = setup
    from dataclasses import replace

    rest = replace(person, joint_rotations=np.repeat(np.eye(3)[None], 55, axis=0))
    out = person_transforms(
        Header(frame_id="c"), rest, "p1", info.joint_names, info.joint_parents, JOINT_SETS["all"]
    )
    for t in out[1:]:
        q = t.transform.rotation
        assert abs(abs(q.w) - 1.0) < 1e-9, t.child_frame_id


def test_published_parents_skip_joints_left_out():
    parents = [-1, 0, 1, 2, 3]
    assert published_parents(parents, [0, 2, 4]) == [-1, 0, 2]
