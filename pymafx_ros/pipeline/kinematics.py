"""The model's final rotations -> SMPL-X axis-angle parameters and global joint rotations.

The model feeds rotation matrices straight into SMPL-X (``SMPLXLayer``: no hand-mean offset), so
the finger rotations it hands over are the full local finger rotations; their axis-angle is what
``smplx.SMPLX(use_pca=False, flat_hand_mean=True)`` expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pymafx_ros.geometry.person import NUM_JOINTS
from pymafx_ros.geometry.skeleton import (
    BODY_JOINTS,
    JAW,
    LEFT_EYE,
    LEFT_HAND_JOINTS,
    RIGHT_EYE,
    RIGHT_HAND_JOINTS,
    SMPLX_PARENTS,
)
from pymafx_ros.model.rotations import (
    forward_kinematics_rotations,
    quaternion_to_axis_angle,
    rotmat_to_quaternion_xyzw,
)


@dataclass
class SmplxPose:
    """Batched SMPL-X pose: axis-angle per joint and global rotations, both for 55 joints."""

    axis_angle: np.ndarray  # (B, 55, 3) local rotations, radians
    global_rotations: np.ndarray  # (B, 55, 3, 3) in the camera frame

    def parameters(self, index: int) -> dict[str, np.ndarray]:
        """The ``smplx.SMPLX.forward`` pose arguments of person ``index`` (flat vectors)."""
        aa = self.axis_angle[index]
        return {
            "global_orient": aa[0].copy(),
            "body_pose": aa[BODY_JOINTS].reshape(-1).copy(),
            "jaw_pose": aa[JAW].copy(),
            "leye_pose": aa[LEFT_EYE].copy(),
            "reye_pose": aa[RIGHT_EYE].copy(),
            "left_hand_pose": aa[LEFT_HAND_JOINTS].reshape(-1).copy(),
            "right_hand_pose": aa[RIGHT_HAND_JOINTS].reshape(-1).copy(),
        }


def local_rotations(
    body: np.ndarray, face: np.ndarray, left_hand: np.ndarray, right_hand: np.ndarray
) -> np.ndarray:
    """Stack the model's rotations in SMPL-X joint order -> (B, 55, 3, 3).

    body (B, >=22, 3, 3) (joints 0..21 of the 24 are used), face (B, 3, 3, 3) jaw/leye/reye,
    hands (B, 15, 3, 3) as given to SMPL-X (left already mirrored back).
    """
    stacked = np.concatenate([body[:, :22], face, left_hand, right_hand], axis=1)
    if stacked.shape[1:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"expected {NUM_JOINTS} joint rotations, got shape {stacked.shape}")
    return stacked


def rotmat_to_axis_angle(rotmat: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> axis-angle (..., 3), robust near 0 and pi."""
    quaternion_xyzw = rotmat_to_quaternion_xyzw(torch.as_tensor(rotmat, dtype=torch.float64))
    quaternion_wxyz = torch.roll(quaternion_xyzw, shifts=1, dims=-1)
    return quaternion_to_axis_angle(quaternion_wxyz).numpy()


def smplx_pose(local: np.ndarray) -> SmplxPose:
    """Local rotations (B, 55, 3, 3) -> axis-angle parameters and global rotations."""
    local64 = torch.as_tensor(local, dtype=torch.float64)
    global_rotations = forward_kinematics_rotations(local64, SMPLX_PARENTS)
    return SmplxPose(rotmat_to_axis_angle(local), global_rotations.numpy())
