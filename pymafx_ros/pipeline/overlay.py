"""Draw people on a frame with OpenCV: projected mesh wireframe, skeleton, part boxes.

For the offline CLI and pictures; everything is projected with the frame's intrinsics, so the
drawing shows exactly what the published 3D says.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pymafx_ros.pipeline.lift import MIN_DEPTH_M
from pymafx_ros.pipeline.result import Box, Intrinsics, PersonResult

# Distinct RGB colours, one per person in frame order.
PALETTE = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
)  # fmt: skip
MESH_ALPHA = 0.5
_PART_COLOURS = {"left_hand": (255, 220, 0), "right_hand": (0, 220, 255), "face": (255, 255, 255)}


def _project(points: np.ndarray, intrinsics: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) camera-frame points -> (N, 2) pixels and (N,) mask of points in front."""
    z = points[:, 2]
    front = z > MIN_DEPTH_M
    safe = np.where(front, z, 1.0)
    uv = np.stack(
        [intrinsics.fx * points[:, 0] / safe + intrinsics.cx,
         intrinsics.fy * points[:, 1] / safe + intrinsics.cy],
        axis=-1,
    )  # fmt: skip
    return uv, front


def _drawable(uv: np.ndarray, limit: float) -> np.ndarray:
    """Mask of finite points close enough to the image for OpenCV's fixed-point drawing."""
    return np.isfinite(uv).all(axis=-1) & (np.abs(uv) < limit).all(axis=-1)


def _draw_wireframe(
    layer: np.ndarray, vertices: np.ndarray, faces: np.ndarray, intrinsics: Intrinsics,
    colour: tuple[int, int, int], limit: float,
) -> None:  # fmt: skip
    uv, front = _project(vertices.astype(np.float64), intrinsics)
    usable = front & _drawable(uv, limit)
    triangles = faces[usable[faces].all(axis=1)]
    if len(triangles):
        polygons = np.round(uv[triangles]).astype(np.int32)
        cv2.polylines(layer, list(polygons), True, colour, 1, cv2.LINE_AA)


def _draw_box(canvas: np.ndarray, box: Box | None, colour: tuple[int, int, int]) -> None:
    if box is None:
        return
    corners = np.array([[box.x0, box.y0], [box.x1, box.y1]])
    if _drawable(corners, 8.0 * max(canvas.shape)).all():
        p0, p1 = np.round(corners).astype(int)
        cv2.rectangle(canvas, tuple(p0.tolist()), tuple(p1.tolist()), colour, 1, cv2.LINE_AA)


def _draw_skeleton(
    canvas: np.ndarray, keypoints: np.ndarray, parents: Sequence[int],
    colour: tuple[int, int, int], limit: float,
) -> None:  # fmt: skip
    ok = _drawable(keypoints, limit)
    points = np.round(np.where(ok[:, None], keypoints, 0.0)).astype(int)
    for joint, parent in enumerate(parents):
        if parent >= 0 and ok[joint] and ok[parent]:
            start, end = tuple(points[parent].tolist()), tuple(points[joint].tolist())
            cv2.line(canvas, start, end, colour, 2, cv2.LINE_AA)
    for joint in np.flatnonzero(ok):
        cv2.circle(canvas, tuple(points[joint].tolist()), 3, (255, 255, 255), -1, cv2.LINE_AA)


def draw_people(
    rgb: np.ndarray,
    people: Sequence[PersonResult],
    intrinsics: Intrinsics,
    joint_parents: Sequence[int],
    faces: np.ndarray | None = None,
) -> np.ndarray:
    """A new (H, W, 3) uint8 RGB image: each person's mesh wireframe (when vertices and
    ``faces`` are given), skeleton, joints and body/hand/face boxes on ``rgb``."""
    canvas = np.ascontiguousarray(rgb).copy()
    limit = 8.0 * max(rgb.shape[:2])
    if faces is not None and any(p.vertices is not None for p in people):
        layer = canvas.copy()
        for index, person in enumerate(people):
            if person.vertices is not None:
                colour = PALETTE[index % len(PALETTE)]
                _draw_wireframe(layer, person.vertices, faces, intrinsics, colour, limit)
        canvas = cv2.addWeighted(layer, MESH_ALPHA, canvas, 1.0 - MESH_ALPHA, 0.0)
    for index, person in enumerate(people):
        colour = PALETTE[index % len(PALETTE)]
        _draw_box(canvas, person.body_box, colour)
        _draw_box(canvas, person.left_hand_box, _PART_COLOURS["left_hand"])
        _draw_box(canvas, person.right_hand_box, _PART_COLOURS["right_hand"])
        _draw_box(canvas, person.face_box, _PART_COLOURS["face"])
        _draw_skeleton(canvas, person.keypoints_2d, joint_parents, colour, limit)
    return canvas
