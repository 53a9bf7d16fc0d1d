"""Hands for retargeting and the GMR world form, against independent computations on a known
SMPL-X pose (the placeholder SMPL-X, evaluated by smplx itself)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from smplx.joint_names import JOINT_NAMES
from smplx_doubles import placeholder_smplx

from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.pipeline.hands import hand_outputs, hand_to_dict
from pymafx_ros.pipeline.world_body import body_in_world, world_body_to_dict

# MediaPipe's 21 hand landmarks by SMPL-X joint name ("{s}" = left/right), written from
# MediaPipe's landmark list (WRIST, THUMB_CMC, THUMB_MCP, THUMB_IP, THUMB_TIP, INDEX_FINGER_MCP,
# ..., PINKY_TIP) and SMPL-X's names: the finger joints 1-3, then smplx's tip landmarks.
MEDIAPIPE_NAMES = ["{s}_wrist"] + [
    f"{{s}}_{finger}{part}"
    for finger in ("thumb", "index", "middle", "ring", "pinky")
    for part in ("1", "2", "3", "")
]


@pytest.fixture(scope="module")
def posed():
    """A person from smplx: joints of a random but fixed pose, shape and translation."""
    generator = torch.Generator().manual_seed(7)

    def draw(n: int, scale: float) -> torch.Tensor:
        return scale * torch.randn(1, n, generator=generator, dtype=torch.float32)

    model = placeholder_smplx()
    arguments = dict(
        global_orient=draw(3, 1.0),
        body_pose=draw(63, 0.3),
        left_hand_pose=draw(45, 0.4),
        right_hand_pose=draw(45, 0.4),
        jaw_pose=draw(3, 0.1),
        betas=draw(10, 1.0),
        transl=torch.tensor([[0.1, -0.2, 2.5]]),
    )
    with torch.no_grad():
        output = model(**arguments, return_full_pose=True)
    joints = output.joints[0].double().numpy()
    full_pose = output.full_pose[0].reshape(55, 3).double().numpy()
    local = Rotation.from_rotvec(full_pose).as_matrix()
    parents = model.parents.numpy()
    global_rotations = local.copy()
    for joint in range(1, 55):
        global_rotations[joint] = global_rotations[parents[joint]] @ local[joint]
    box = Box(0, 0, 1, 1)
    person = PersonResult(
        detection_score=1.0, body_box=box, left_hand_box=box, right_hand_box=box, face_box=box,
        left_hand_visibility=1.0, right_hand_visibility=0.0, face_visibility=1.0,
        left_hand_valid=True, right_hand_valid=False, face_valid=True,
        global_orient=full_pose[0], body_pose=full_pose[1:22].ravel(), jaw_pose=full_pose[22],
        leye_pose=full_pose[23], reye_pose=full_pose[24], left_hand_pose=full_pose[25:40].ravel(),
        right_hand_pose=full_pose[40:55].ravel(), betas=np.zeros(10), expression=np.zeros(50),
        transl=np.array([0.1, -0.2, 2.5]), joints=joints[:55], joint_rotations=global_rotations,
        keypoints_2d=np.zeros((55, 2)), fingertips=joints[66:76], track_id="p3",
    )  # fmt: skip
    return person, joints


def dex_retargeting_frame(keypoints: np.ndarray) -> np.ndarray:
    """dex-retargeting's published wrist-frame estimate (SVD plane fit through the wrist and
    the index and middle MCPs), written independently of the package's cross-product form."""
    points = keypoints[[0, 5, 9]]
    x_vector = points[0] - points[2]
    centred = points - points.mean(axis=0)
    normal = np.linalg.svd(centred)[2][2]
    x = x_vector - (x_vector @ normal) * normal
    x /= np.linalg.norm(x)
    z = np.cross(x, normal)
    if z @ (centred[1] - centred[2]) < 0:
        normal, z = -normal, -z
    return np.stack([x, normal, z], axis=1)


OPERATOR2MANO = {
    "right": np.array([[0, 0, -1], [-1, 0, 0], [0, 1, 0]], dtype=float),
    "left": np.array([[0, 0, -1], [1, 0, 0], [0, -1, 0]], dtype=float),
}


@pytest.mark.parametrize("wrist_frame", ["mano", "operator", "camera"])
def test_hands_match_an_independent_computation(posed, wrist_frame):
    person, joints = posed
    hands = hand_outputs(person, wrist_frame)
    assert [h.side for h in hands] == ["left", "right"]
    for hand in hands:
        names = [n.format(s=hand.side) for n in MEDIAPIPE_NAMES]
        expected = joints[[JOINT_NAMES.index(n) for n in names]]
        np.testing.assert_allclose(hand.keypoints_camera, expected, atol=1e-12)
        np.testing.assert_allclose(hand.wrist_position, expected[0], atol=1e-12)
        relative = expected - expected[0]
        frame = {
            "mano": dex_retargeting_frame(relative) @ OPERATOR2MANO[hand.side],
            "operator": dex_retargeting_frame(relative),
            "camera": np.eye(3),
        }[wrist_frame]
        # dex-retargeting's retarget() input: keypoint_3d_array @ wrist_rot @ operator2mano
        np.testing.assert_allclose(hand.keypoints_wrist, relative @ frame, atol=1e-9)
        np.testing.assert_allclose(hand.wrist_rotation, frame, atol=1e-9)
        np.testing.assert_allclose(
            hand.keypoints_camera,
            hand.wrist_position + hand.keypoints_wrist @ hand.wrist_rotation.T,
            atol=1e-9,
        )
        quaternion = hand.wrist_quaternion_xyzw
        assert np.linalg.norm(quaternion) == pytest.approx(1.0) and quaternion[3] >= 0
    assert [h.valid for h in hands] == [True, False]  # the right hand was not seen


def test_hand_json_and_degenerate_hands(posed):
    person, _ = posed
    record = hand_to_dict(hand_outputs(person)[0], "p3")
    assert record["person_id"] == "p3" and len(record["keypoints_wrist"]) == 21
    flat = dataclasses.replace(person, fingertips=np.zeros((10, 3)), joints=np.zeros((55, 3)))
    assert [h.valid for h in hand_outputs(flat)] == [False, False]
    assert all(np.isfinite(h.keypoints_wrist).all() for h in hand_outputs(flat))
    with pytest.raises(ValueError, match="wrist_frame"):
        hand_outputs(person, "world")


def test_world_body_is_gmr_form(posed):
    person, joints = posed
    rotation = Rotation.from_euler("xyz", [-90.0, 0.0, 30.0], degrees=True).as_matrix()
    translation = np.array([1.0, 2.0, 0.5])
    body = body_in_world(person, rotation, translation)
    np.testing.assert_allclose(body.positions, joints[:55] @ rotation.T + translation, atol=1e-12)
    for joint in (0, 20, 37):
        w, x, y, z = body.quaternions_wxyz[joint]
        expected = rotation @ person.joint_rotations[joint]
        np.testing.assert_allclose(
            Rotation.from_quat([x, y, z, w]).as_matrix(), expected, atol=1e-9
        )
    assert (body.quaternions_wxyz[:, 0] >= 0).all()
    record = world_body_to_dict(body, tuple(JOINT_NAMES[:55]), "p3")
    assert list(record["joints"])[:2] == ["pelvis", "left_hip"]
    assert len(record["joints"]["left_wrist"][1]) == 4
