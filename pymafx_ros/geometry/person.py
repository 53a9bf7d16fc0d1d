"""One person as metric SMPL-X, and the image boxes of their parts.

The contract between the pipeline, tracking and the publishers (the ROS node, the offline CLI):
numpy arrays only, 3D in metres in the camera optical frame (x right, y down, z forward), 2D in
pixels of the input image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_JOINTS = 55  # SMPL-X kinematic joints (smplx.joint_names.JOINT_NAMES[:55])


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in image pixels: top-left corner (x0, y0), bottom-right (x1, y1)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def clipped(self, width: int, height: int) -> Box:
        """The part of the box inside a width x height image (may be empty)."""
        x0, x1 = np.clip([self.x0, self.x1], 0, width)
        y0, y1 = np.clip([self.y0, self.y1], 0, height)
        return Box(float(x0), float(y0), float(max(x0, x1)), float(max(y0, y1)))


@dataclass
class PersonResult:
    """One person. SMPL-X parameters are axis-angle (radians) named as ``smplx.SMPLX.forward``.

    ``smplx.SMPLX(use_pca=False, flat_hand_mean=True, num_betas=10, num_expression_coeffs=50,
    use_face_contour=True)`` fed with these parameters and ``transl`` reproduces ``joints``.
    """

    detection_score: float
    body_box: Box
    left_hand_box: Box | None
    right_hand_box: Box | None
    face_box: Box | None
    left_hand_visibility: float
    right_hand_visibility: float
    face_visibility: float
    left_hand_valid: bool
    right_hand_valid: bool
    face_valid: bool
    global_orient: np.ndarray  # (3,)
    body_pose: np.ndarray  # (63,) joints 1..21
    jaw_pose: np.ndarray  # (3,)
    leye_pose: np.ndarray  # (3,)
    reye_pose: np.ndarray  # (3,)
    left_hand_pose: np.ndarray  # (45,)
    right_hand_pose: np.ndarray  # (45,)
    betas: np.ndarray  # (10,)
    expression: np.ndarray  # (50,)
    transl: np.ndarray  # (3,) metres, camera optical frame
    joints: np.ndarray  # (55, 3) metres, camera optical frame
    joint_rotations: np.ndarray  # (55, 3, 3) global SMPL-X joint rotations in the camera frame
    keypoints_2d: np.ndarray  # (55, 2) pixels
    vertices: np.ndarray | None = None  # (10475, 3) metres, camera frame, when requested
    # (10, 3) metres, camera frame: SMPL-X's fingertip joints 66-75, left thumb, index, middle,
    # ring, pinky, then the right ones (the hands output needs them).
    fingertips: np.ndarray | None = None
    track_id: str = ""  # the tracker's id (REP-155 syntax, p1, p2, ...), never reused in a run
    age_frames: int = 0  # frames since the track was born
    smoothed: bool = False  # the values went through the track's temporal filter
    # False when the face expert was left out (``experts``): jaw, eyes and expression are then
    # the release's neutral ones (identity rotations, zero expression), not an estimate.
    face_estimated: bool = True

    def is_finite(self) -> bool:
        """True when every numeric field is finite (non-finite people must never be published)."""
        arrays = [
            self.global_orient, self.body_pose, self.jaw_pose, self.leye_pose, self.reye_pose,
            self.left_hand_pose, self.right_hand_pose, self.betas, self.expression, self.transl,
            self.joints, self.joint_rotations, self.keypoints_2d,
        ]  # fmt: skip
        arrays.extend(a for a in (self.vertices, self.fingertips) if a is not None)
        return all(np.isfinite(a).all() for a in arrays) and np.isfinite(self.detection_score)
