"""Draw people on a frame with OpenCV: projected mesh, skeleton, part boxes and optional labels.

The one renderer of the project: the offline CLI draws wireframes coloured by person index, the
ROS node a shaded decimated mesh coloured and labelled by person id. Everything is projected with
the frame's intrinsics, so the drawing shows exactly what the published 3D says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

from pymafx_ros.geometry.camera import Intrinsics, project_points
from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.pipeline.lift import MIN_DEPTH_M

Colour = tuple[int, int, int]
MeshStyle = Literal["wireframe", "fill"]

# Distinct RGB colours, one per person in frame order (when no colours are given).
PALETTE = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
)  # fmt: skip
MESH_ALPHA = 0.5
_PART_COLOURS = {"left_hand": (255, 220, 0), "right_hand": (0, 220, 255), "face": (255, 255, 255)}


def project_in_front(points: np.ndarray, intrinsics: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) camera-frame points -> (..., 2) pixels and (...) mask of points in front (the
    others are projected from a dummy depth, so they stay finite)."""
    points = np.asarray(points, dtype=np.float64)
    front = points[..., 2] > MIN_DEPTH_M
    safe = np.where(front[..., None], points, np.array([0.0, 0.0, 1.0]))
    return project_points(safe, intrinsics), front


def _drawable(uv: np.ndarray, limit: float) -> np.ndarray:
    """Mask of finite points close enough to the image for OpenCV's fixed-point drawing."""
    return np.isfinite(uv).all(axis=-1) & (np.abs(uv) < limit).all(axis=-1)


def _draw_wireframe(
    layer: np.ndarray, vertices: np.ndarray, faces: np.ndarray, intrinsics: Intrinsics,
    colour: Colour, limit: float,
) -> bool:  # fmt: skip
    uv, front = project_in_front(vertices, intrinsics)
    usable = front & _drawable(uv, limit)
    triangles = faces[usable[faces].all(axis=1)]
    if len(triangles):
        polygons = np.round(uv[triangles]).astype(np.int32)
        cv2.polylines(layer, list(polygons), True, colour, 1, cv2.LINE_AA)
    return bool(len(triangles))


def _draw_filled(
    layer: np.ndarray, vertices: np.ndarray, faces: np.ndarray, intrinsics: Intrinsics,
    colour: Colour, limit: float,
) -> bool:  # fmt: skip
    """Paint the triangles far to near, shaded by how much they face the camera (one
    fillConvexPoly each: a single fillPoly call would cancel overlapping faces)."""
    triangles = np.asarray(vertices, dtype=np.float64)[faces]
    corners, front = project_in_front(triangles, intrinsics)
    keep = front.all(axis=1) & _drawable(corners, limit).all(axis=1)
    if not keep.any():
        return False
    triangles, corners = triangles[keep], np.round(corners[keep]).astype(np.int32)
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    facing = np.abs(normals[:, 2]) / np.where(lengths > 0, lengths, 1.0)
    shades = (0.35 + 0.65 * facing)[:, None] * np.asarray(colour, dtype=np.float64)[None, :]
    for index in np.argsort(-triangles[:, :, 2].mean(axis=1)):
        cv2.fillConvexPoly(layer, corners[index], shades[index].tolist(), cv2.LINE_8)
    return True


_MESH_PAINTERS = {"wireframe": _draw_wireframe, "fill": _draw_filled}


def _draw_box(canvas: np.ndarray, box: Box | None, colour: Colour) -> None:
    if box is None:
        return
    corners = np.array([[box.x0, box.y0], [box.x1, box.y1]])
    if _drawable(corners, 8.0 * max(canvas.shape)).all():
        p0, p1 = np.round(corners).astype(int)
        cv2.rectangle(canvas, tuple(p0.tolist()), tuple(p1.tolist()), colour, 1, cv2.LINE_AA)


def _draw_skeleton(
    canvas: np.ndarray, keypoints: np.ndarray, parents: Sequence[int], colour: Colour,
    limit: float, joint_dots: bool,
) -> None:  # fmt: skip
    ok = _drawable(keypoints, limit)
    points = np.round(np.where(ok[:, None], keypoints, 0.0)).astype(int)
    for joint, parent in enumerate(parents[: len(points)]):
        if parent >= 0 and ok[joint] and ok[parent]:
            start, end = tuple(points[parent].tolist()), tuple(points[joint].tolist())
            cv2.line(canvas, start, end, colour, 2, cv2.LINE_AA)
    if not joint_dots:
        return
    for joint in np.flatnonzero(ok):
        cv2.circle(canvas, tuple(points[joint].tolist()), 3, (255, 255, 255), -1, cv2.LINE_AA)


def _draw_label(canvas: np.ndarray, box: Box, text: str, colour: Colour) -> None:
    """``text`` just above the body box's top-left corner, kept inside the image."""
    h, w = canvas.shape[:2]
    anchor = (int(np.clip(box.x0, 0, w - 1)), int(np.clip(box.y0 - 6, 12, h - 1)))
    cv2.putText(canvas, text, anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)


def draw_people(
    rgb: np.ndarray,
    people: Sequence[PersonResult],
    intrinsics: Intrinsics,
    joint_parents: Sequence[int],
    faces: np.ndarray | None = None,
    colours: Sequence[Colour] | None = None,
    labels: Sequence[str] | None = None,
    mesh_style: MeshStyle = "wireframe",
    with_details: bool = True,
) -> np.ndarray:
    """A new (H, W, 3) uint8 RGB image: each person's mesh (when ``person.vertices`` (V, 3) and
    ``faces`` (F, 3) are given), skeleton, joints, boxes and label on ``rgb``.

    ``colours``: one 0-255 RGB per person (default: ``PALETTE`` by index); ``labels``: one text
    per person drawn above its body box; ``mesh_style``: "wireframe" or shaded "fill";
    ``with_details``: also draw the body/hand/face boxes and a dot on every joint.
    """
    if mesh_style not in _MESH_PAINTERS:
        raise ValueError(f"mesh_style must be one of {sorted(_MESH_PAINTERS)}, got {mesh_style!r}")
    for name, given in (("colours", colours), ("labels", labels)):
        if given is not None and len(given) != len(people):
            raise ValueError(
                f"{name} must hold one entry per person ({len(people)}), got {len(given)}"
            )
    if colours is None:
        colours = [PALETTE[index % len(PALETTE)] for index in range(len(people))]
    canvas = np.ascontiguousarray(rgb).copy()
    limit = 8.0 * max(rgb.shape[:2])
    if faces is not None and any(p.vertices is not None for p in people):
        layer = canvas.copy()
        paint = _MESH_PAINTERS[mesh_style]
        drew = False
        for person, colour in zip(people, colours, strict=True):
            if person.vertices is not None:
                drew |= paint(layer, person.vertices, faces, intrinsics, colour, limit)
        if drew:
            canvas = cv2.addWeighted(layer, MESH_ALPHA, canvas, 1.0 - MESH_ALPHA, 0.0)
    for index, (person, colour) in enumerate(zip(people, colours, strict=True)):
        if with_details:
            _draw_box(canvas, person.body_box, colour)
            _draw_box(canvas, person.left_hand_box, _PART_COLOURS["left_hand"])
            _draw_box(canvas, person.right_hand_box, _PART_COLOURS["right_hand"])
            _draw_box(canvas, person.face_box, _PART_COLOURS["face"])
        _draw_skeleton(canvas, person.keypoints_2d, joint_parents, colour, limit, with_details)
        if labels is not None:
            _draw_label(canvas, person.body_box, labels[index], colour)
    return canvas
