"""Hands for teleoperation retargeting: 21 MediaPipe-order keypoints and the wrist pose.

Per person and side: the wrist position and orientation in the camera optical frame (the
position monocular hand detectors cannot give), the 21 keypoints in MediaPipe's order (wrist;
thumb CMC, MCP, IP, tip; index MCP, PIP, DIP, tip; middle; ring; pinky) in the camera frame,
and the same keypoints relative to the wrist in the frame dex-retargeting feeds its
``retarget()``. SMPL-X orders fingers index, middle, pinky, ring, thumb with three joints each;
the tips are its extra vertex joints 66-75.

Wrist frames (``wrist_frame``):
- ``mano`` (default): dex-retargeting's input. The hand's own frame is estimated from the wrist,
  index MCP and middle MCP exactly as its ``estimate_frame_from_hand_points`` does (x from the
  middle MCP to the wrist, y the palm normal, z = x cross y, pointing from the middle towards
  the index finger), then turned by its ``OPERATOR2MANO_RIGHT/LEFT``.
- ``operator``: that estimated frame without the MANO turn.
- ``camera``: camera axes, wrist-relative.
``wrist_rotation``'s columns are the chosen frame's axes in the camera frame, so
``keypoints_camera == wrist_position + keypoints_wrist @ wrist_rotation.T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.config import OutputOptions, check_value
from pymafx_ros.geometry.person import PersonResult

SIDES = ("left", "right")

# Per side, indices into the 55 joints followed by the 10 fingertips (55 + 0..4: left thumb,
# index, middle, ring, pinky tips; 55 + 5..9: the right ones), in MediaPipe's 21-point order:
# wrist, then thumb1-3 + tip, index1-3 + tip, middle1-3 + tip, ring1-3 + tip, pinky1-3 + tip.
MEDIAPIPE_ORDER = {
    "left": np.array(
        [20, 37, 38, 39, 55, 25, 26, 27, 56, 28, 29, 30, 57, 34, 35, 36, 58, 31, 32, 33, 59]
    ),
    "right": np.array(
        [21, 52, 53, 54, 60, 40, 41, 42, 61, 43, 44, 45, 62, 49, 50, 51, 63, 46, 47, 48, 64]
    ),
}
# dex-retargeting's turn from its estimated (operator) frame into the MANO frame, per side.
OPERATOR_TO_MANO = {
    "right": np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "left": np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
}
# Keypoints of a hand whose palm spans less than this (m) give no usable frame.
MIN_PALM_EXTENT_M = 1e-4


@dataclass
class HandOutput:
    """One hand of one person, metres; ``valid`` False means do not drive a robot hand with it."""

    side: str  # the person's own "left" or "right"
    valid: bool  # the hand expert saw this hand and its frame is well defined
    wrist_position: np.ndarray  # (3,) camera optical frame
    wrist_rotation: np.ndarray  # (3, 3) columns: the wrist frame's axes in the camera frame
    keypoints_camera: np.ndarray  # (21, 3) MediaPipe order, camera optical frame
    keypoints_wrist: np.ndarray  # (21, 3) MediaPipe order, relative to the wrist, wrist frame
    wrist_frame: str  # "mano", "operator" or "camera"

    @property
    def wrist_quaternion_xyzw(self) -> np.ndarray:
        """The wrist rotation as a unit quaternion (x, y, z, w), w >= 0."""
        quaternion = Rotation.from_matrix(self.wrist_rotation).as_quat()
        return quaternion if quaternion[3] >= 0 else -quaternion


def estimated_hand_frame(keypoints: np.ndarray) -> np.ndarray | None:
    """dex-retargeting's wrist frame (3, 3), columns x, y, z, from MediaPipe-order keypoints
    (21, 3); None when the wrist and the index and middle MCPs are (nearly) collinear."""
    wrist, index_mcp, middle_mcp = keypoints[0], keypoints[5], keypoints[9]
    normal = np.cross(index_mcp - wrist, middle_mcp - wrist)
    x = wrist - middle_mcp
    norm_n, norm_x = np.linalg.norm(normal), np.linalg.norm(x)
    if norm_x < MIN_PALM_EXTENT_M or norm_n < MIN_PALM_EXTENT_M * norm_x:
        return None
    normal /= norm_n
    x = x - np.dot(x, normal) * normal
    x /= np.linalg.norm(x)
    z = np.cross(x, normal)
    # The palm normal's sign is free: choose the one whose z points from middle to index.
    if np.dot(z, index_mcp - middle_mcp) < 0:
        normal, z = -normal, -z
    return np.column_stack([x, normal, z])


def hand_outputs(person: PersonResult, wrist_frame: str = "mano") -> list[HandOutput]:
    """The left and right hands of ``person`` (which needs ``fingertips``)."""
    check_value(OutputOptions, "hands.wrist_frame", wrist_frame)
    if person.fingertips is None:
        raise ValueError("the person has no fingertips: results from the pipeline always do")
    points = np.concatenate([person.joints, person.fingertips], axis=0)
    hands = []
    for side in SIDES:
        keypoints = points[MEDIAPIPE_ORDER[side]]
        wrist = keypoints[0].copy()
        frame = estimated_hand_frame(keypoints)
        if wrist_frame == "camera" or frame is None:
            rotation = np.eye(3)
        elif wrist_frame == "operator":
            rotation = frame
        else:
            rotation = frame @ OPERATOR_TO_MANO[side]
        seen = person.left_hand_valid if side == "left" else person.right_hand_valid
        hands.append(
            HandOutput(
                side=side,
                valid=bool(seen and frame is not None and np.isfinite(keypoints).all()),
                wrist_position=wrist,
                wrist_rotation=rotation,
                keypoints_camera=keypoints,
                keypoints_wrist=(keypoints - wrist) @ rotation,
                wrist_frame=wrist_frame,
            )
        )
    return hands


def hand_to_dict(hand: HandOutput, person_id: str) -> dict[str, object]:
    """JSON-ready form of one hand (lists of floats)."""
    return {
        "person_id": person_id,
        "side": hand.side,
        "valid": hand.valid,
        "wrist_frame": hand.wrist_frame,
        "wrist_position": hand.wrist_position.tolist(),
        "wrist_orientation_xyzw": hand.wrist_quaternion_xyzw.tolist(),
        "keypoints_camera": hand.keypoints_camera.tolist(),
        "keypoints_wrist": hand.keypoints_wrist.tolist(),
    }
