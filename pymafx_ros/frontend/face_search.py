"""Find a person's face with MediaPipe's face detector in a square crop around their head.

The short-range face detector sees its input at 128 px: over a whole frame a person's face
shrinks to a few pixels, so it searches a crop around the head that the pose landmarks give.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pymafx_ros.frontend import person_parts as parts
from pymafx_ros.frontend.landmark_maps import POSE_NOSE
from pymafx_ros.frontend.part_matching import match_by_distance
from pymafx_ros.frontend.types import PartBox

# Side of the searched crop per side of the pose's guessed face box; a crop smaller than the
# minimum holds a face too small for the detector anyway.
HEAD_CROP_PER_FACE_BOX = 2.0
MIN_HEAD_CROP_PX = 24


class FoundFace(NamedTuple):
    """A face the detector found: release box, visibility and its 6 keypoints (6,3) in px."""

    box: PartBox
    visibility: float
    keypoints: np.ndarray


def square_crop(rgb: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The (side,side,3) square of ``rgb`` with top-left corner (x0, y0); black off-frame."""
    height, width = rgb.shape[:2]
    crop = np.zeros((side, side, 3), np.uint8)
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + side, width), min(y0 + side, height)
    if fx1 > fx0 and fy1 > fy0:
        crop[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] = rgb[fy0:fy1, fx0:fx1]
    return crop


def find_face(detector: object, rgb: np.ndarray, pose: np.ndarray) -> FoundFace | None:
    """The face nearest the pose's nose (within one face width) that ``detector`` (a Tasks
    FaceDetector in image mode) finds around the head of pose landmarks (33,3) px, or None."""
    height, width = rgb.shape[:2]
    guess = parts.guessed_face_box(pose, width, height)
    side = round(HEAD_CROP_PER_FACE_BOX * guess.size)
    if side < MIN_HEAD_CROP_PX:
        return None
    x0, y0 = round(guess.cx - side / 2), round(guess.cy - side / 2)
    import mediapipe as mp

    crop = mp.Image(image_format=mp.ImageFormat.SRGB, data=square_crop(rgb, x0, y0, side))
    detections = detector.detect(crop).detections
    if not detections:
        return None
    extents, scores, keypoints = [], [], []
    for detection in detections:
        b = detection.bounding_box
        extents.append((x0 + b.origin_x, y0 + b.origin_y, b.width, b.height))
        scores.append(float(detection.categories[0].score))
        keypoints.append([(x0 + k.x * side, y0 + k.y * side) for k in detection.keypoints])
    boxes = np.array(extents, dtype=np.float64)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    matched = match_by_distance(pose[None, POSE_NOSE, :2], centres, boxes[:, 2:].max(axis=1))
    if not matched:
        return None
    best = matched[0]
    x, y, w, h = boxes[best]
    points = np.column_stack([keypoints[best], np.full(len(keypoints[best]), scores[best])])
    box, visibility = parts.face_from_detection(
        (x, y, x + w, y + h), scores[best], points, width, height
    )
    return FoundFace(box, visibility, points)
