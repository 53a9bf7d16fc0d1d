"""The overlay image: each person's (decimated) mesh, skeleton and id drawn on the input frame."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pymafx_ros.pipeline.result import Intrinsics, PersonResult
from pymafx_ros.ros.markers import colour_rgb
from pymafx_ros.ros.mesh_decimation import MeshDecimator

MESH_ALPHA = 0.45
_MIN_DEPTH_M = 0.05  # triangles with a corner closer than this (or behind) are not drawn


def project(points: np.ndarray, k: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) camera-frame points -> (..., 2) pixels and a mask of points in front."""
    z = points[..., 2]
    front = z > _MIN_DEPTH_M
    safe_z = np.where(front, z, 1.0)
    uv = np.stack([k.fx * points[..., 0] / safe_z + k.cx, k.fy * points[..., 1] / safe_z + k.cy])
    return np.moveaxis(uv, 0, -1), front


def _paint_mesh(
    canvas: np.ndarray,
    triangles: np.ndarray,
    k: Intrinsics,
    rgb: tuple[float, float, float],
    limit: float,
) -> bool:
    """Paint (F, 3, 3) camera-frame triangles far to near, shaded by how much they face the
    camera (one fillConvexPoly each: a single fillPoly call would cancel overlapping faces)."""
    corners, front = project(triangles, k)
    keep = front.all(axis=1) & (np.abs(corners) < limit).all(axis=(1, 2))
    if not keep.any():
        return False
    triangles, corners = triangles[keep], np.round(corners[keep]).astype(np.int32)
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    facing = np.abs(normals[:, 2]) / np.where(lengths > 0, lengths, 1.0)
    shades = (0.35 + 0.65 * facing)[:, None] * (255.0 * np.asarray(rgb))[None, :]
    for index in np.argsort(-triangles[:, :, 2].mean(axis=1)):
        cv2.fillConvexPoly(canvas, corners[index], shades[index].tolist(), cv2.LINE_8)
    return True


def draw_overlay(
    rgb: np.ndarray,
    people: Sequence[PersonResult],
    ids: Sequence[str],
    intrinsics: Intrinsics,
    joint_parents: Sequence[int],
    decimator: MeshDecimator | None,
) -> np.ndarray:
    """A new (H, W, 3) uint8 RGB image: ``rgb`` with every person drawn in their colour."""
    canvas = rgb.copy()
    mesh_layer = rgb.copy()
    h, w = rgb.shape[:2]
    limit = 4.0 * max(h, w)  # keeps far-off projections inside OpenCV's fixed-point range
    drew_mesh = False
    for person, person_id in zip(people, ids, strict=True):
        if decimator is not None and person.vertices is not None:
            triangles = decimator.triangles(person.vertices)
            colour = colour_rgb(person_id)
            drew_mesh |= _paint_mesh(mesh_layer, triangles, intrinsics, colour, limit)
    if drew_mesh:
        canvas = cv2.addWeighted(mesh_layer, MESH_ALPHA, canvas, 1.0 - MESH_ALPHA, 0.0)
    for person, person_id in zip(people, ids, strict=True):
        colour = tuple(int(255 * c) for c in colour_rgb(person_id))
        uv = person.keypoints_2d
        for joint, parent in enumerate(joint_parents[: len(uv)]):
            if parent < 0:
                continue
            a, b = uv[joint], uv[parent]
            if np.abs(np.concatenate([a, b])).max() < limit:
                pa = (round(float(a[0])), round(float(a[1])))
                pb = (round(float(b[0])), round(float(b[1])))
                cv2.line(canvas, pa, pb, colour, 2, cv2.LINE_AA)
        x0, y0 = person.body_box.x0, person.body_box.y0
        anchor = (int(np.clip(x0, 0, w - 1)), int(np.clip(y0 - 6, 12, h - 1)))
        cv2.putText(canvas, person_id, anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
    return canvas
