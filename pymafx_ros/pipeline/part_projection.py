"""Hand and face boxes from the body expert's own projection (front ends that see no parts).

The ``full_frame`` front end only knows where the body is. The model's SMPL-X joints, projected
with its body crop camera, say where the hands and face are: boxes follow the release's rule
(square around the part's keypoints, hand x1.2, face x1.4) and the part's visibility is the
share of its keypoints inside the image.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pymafx_ros.frontend.box_rules import FACE_RESCALE, HAND_RESCALE, box_from_keypoints
from pymafx_ros.frontend.types import PersonDetection
from pymafx_ros.pipeline.lift import crop_camera_keypoints

# SMPL-X output joints (smplx order: 55 kinematic, 21 vertex joints, 51 + 17 face landmarks).
# Hands: wrist, the 15 finger joints and the 5 fingertips; face: the 68 landmarks.
LEFT_HAND_JOINTS = (20, *range(25, 40), *range(66, 71))
RIGHT_HAND_JOINTS = (21, *range(40, 55), *range(71, 76))
FACE_LANDMARKS = tuple(range(76, 144))
_PARTS = {
    "left_hand": (LEFT_HAND_JOINTS, HAND_RESCALE, "vis_lhand"),
    "right_hand": (RIGHT_HAND_JOINTS, HAND_RESCALE, "vis_rhand"),
    "face": (FACE_LANDMARKS, FACE_RESCALE, "vis_face"),
}


def _inside_share(points: np.ndarray, width: int, height: int) -> float:
    inside = (points[:, 0] >= -0.5) & (points[:, 0] <= width - 0.5)
    inside &= (points[:, 1] >= -0.5) & (points[:, 1] <= height - 0.5)
    return float(inside.mean())


def project_parts(
    people: list[PersonDetection],
    joints: np.ndarray,
    cams: np.ndarray,
    width: int,
    height: int,
) -> list[PersonDetection]:
    """``people`` with hand/face boxes and visibilities from the model's joints (B, >=144, 3)
    and body cams (B, 3); a part whose projection gives no box keeps its old box, vis 0."""
    if joints.shape[1] < FACE_LANDMARKS[-1] + 1:
        raise ValueError(f"need the 144 SMPL-X joints with face contour, got {joints.shape}")
    body_boxes = np.array([[p.body.cx, p.body.cy, p.body.size] for p in people])
    pixels = crop_camera_keypoints(joints, cams, body_boxes)
    updated = []
    for person, points in zip(people, pixels, strict=True):
        changes: dict[str, object] = {}
        for part, (indices, rescale, vis_key) in _PARTS.items():
            part_points = points[list(indices)]
            keypoints = np.column_stack([part_points, np.ones(len(part_points))])
            finite = np.isfinite(part_points).all()
            box = box_from_keypoints(keypoints, rescale) if finite else None
            changes[part] = box if box is not None else getattr(person, part)
            changes[vis_key] = 0.0 if box is None else _inside_share(part_points, width, height)
        updated.append(dataclasses.replace(person, **changes))
    return updated
