"""A face the face expert did not see (``face_estimated`` False, ``experts: body,hands``) stays
exactly the neutral one through the temporal filter, while the head it hangs on moves."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.config import SmoothingConfig
from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.geometry.skeleton import JAW, RIGHT_EYE, SMPLX_PARENTS
from pymafx_ros.pipeline.kinematics import smplx_pose
from pymafx_ros.tracking.person_filter import PersonFilter


def _person(local_axis_angle: np.ndarray) -> PersonResult:
    """A person with these 55 local rotations (axis-angle), a neutral face, not estimated."""
    # Global rotations as the pipeline computes them (their rounding is what the filter sees).
    # float32 matrices, as the model gives them (not exactly orthonormal in float64).
    local = Rotation.from_rotvec(local_axis_angle).as_matrix().astype(np.float32)
    rotations = smplx_pose(local[None]).global_rotations[0]
    box = Box(0.0, 0.0, 10.0, 10.0)
    zeros = np.zeros
    return PersonResult(
        detection_score=1.0, body_box=box, left_hand_box=box, right_hand_box=box, face_box=box,
        left_hand_visibility=0.0, right_hand_visibility=0.0, face_visibility=1.0,
        left_hand_valid=False, right_hand_valid=False, face_valid=False,
        global_orient=local_axis_angle[0], body_pose=local_axis_angle[1:22].ravel(),
        jaw_pose=zeros(3), leye_pose=zeros(3), reye_pose=zeros(3),
        left_hand_pose=local_axis_angle[25:40].ravel(),
        right_hand_pose=local_axis_angle[40:55].ravel(), betas=zeros(10), expression=zeros(50),
        transl=np.array([0.0, 0.0, 3.0]), joints=zeros((55, 3)), joint_rotations=rotations,
        keypoints_2d=zeros((55, 2)), face_estimated=False,
    )  # fmt: skip


def test_a_face_not_estimated_stays_neutral_through_the_filter():
    rng = np.random.default_rng(3)
    smoothing = PersonFilter(SmoothingConfig())
    face = slice(JAW, RIGHT_EYE + 1)
    for frame in range(6):
        pose = rng.normal(0.0, 0.3, (55, 3))
        pose[face] = 0.0  # the neutral face the model gives without the face expert
        out = smoothing(_person(pose), None if frame == 0 else 1 / 30)
        assert not out.face_estimated
        for name in ("jaw_pose", "leye_pose", "reye_pose", "expression"):
            assert np.array_equal(getattr(out, name), np.zeros_like(getattr(out, name))), name
        # The jaw and eyes turn with the (filtered) head: identity local rotations.
        head = SMPLX_PARENTS[JAW]
        for joint in range(JAW, RIGHT_EYE + 1):
            np.testing.assert_allclose(
                out.joint_rotations[joint], out.joint_rotations[head], atol=1e-12
            )
