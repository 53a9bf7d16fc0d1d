"""The release's part-box rules (shared README §3) and the image-edge helpers around them.

A part box is the square around the bbox of the part's valid keypoints (confidence > 0):
centre = bbox centre, side = ``BOX_MARGIN * max(w, h) * rescale`` with the release's per-part
rescale factors (``DATA.RESCALE_B/H/F``). ``side = PIXELS_PER_SCALE * scale`` of the release.
"""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend.types import PartBox

BOX_MARGIN = 1.2
BODY_RESCALE = 1.0
HAND_RESCALE = 1.2
FACE_RESCALE = 1.4
PIXELS_PER_SCALE = 200.0
# The release counts a part as seen when its visibility exceeds this (integration step 1).
VISIBILITY_GATE = 0.1


def box_from_extent(x0: float, y0: float, x1: float, y1: float, rescale: float) -> PartBox:
    """Square part box around the extent ``[x0, x1] x [y0, y1]`` (pixels), release rule."""
    side = BOX_MARGIN * max(x1 - x0, y1 - y0) * rescale
    return PartBox(cx=float(0.5 * (x0 + x1)), cy=float(0.5 * (y0 + y1)), size=float(side))


def box_from_keypoints(keypoints: np.ndarray, rescale: float) -> PartBox | None:
    """Part box from keypoints (N,3) x,y,conf in pixels; None when fewer than 2 have conf > 0.

    A single point or coincident points give no extent, hence no usable box.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 2 or keypoints.shape[1] != 3:
        raise ValueError(f"keypoints must have shape (N, 3) x,y,conf, got {keypoints.shape}")
    valid = keypoints[keypoints[:, 2] > 0, :2]
    if len(valid) < 2:
        return None
    (x0, y0), (x1, y1) = valid.min(axis=0), valid.max(axis=0)
    if max(x1 - x0, y1 - y0) <= 0:
        return None
    return box_from_extent(float(x0), float(y0), float(x1), float(y1), rescale)


def clip_points(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clamp pixel points (N,2+) into the image so that a box never reaches past the frame
    because of landmarks that the models extrapolate outside it; extra columns are kept."""
    clipped = np.array(points, dtype=np.float64, copy=True)
    clipped[:, 0] = np.clip(clipped[:, 0], 0.0, width - 1.0)
    clipped[:, 1] = np.clip(clipped[:, 1], 0.0, height - 1.0)
    return clipped


def fraction_inside(points: np.ndarray, width: int, height: int) -> float:
    """Share of pixel points (N,2+) that lie inside the image; 0 for no points."""
    if len(points) == 0:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return float(inside.mean())


def clamp_centre(box: PartBox, width: int, height: int) -> PartBox:
    """Move a guessed box's centre into the image so its crop shows at least some pixels."""
    cx = min(max(box.cx, 0.0), width - 1.0)
    cy = min(max(box.cy, 0.0), height - 1.0)
    return PartBox(cx=cx, cy=cy, size=box.size)


def square_iou(a: PartBox, b: PartBox) -> float:
    """Intersection over union of two square boxes (0 when they do not touch)."""
    half_a, half_b = a.size / 2, b.size / 2
    overlap_x = min(a.cx + half_a, b.cx + half_b) - max(a.cx - half_a, b.cx - half_b)
    overlap_y = min(a.cy + half_a, b.cy + half_b) - max(a.cy - half_a, b.cy - half_b)
    intersection = max(overlap_x, 0.0) * max(overlap_y, 0.0)
    union = a.size**2 + b.size**2 - intersection
    return intersection / union if union > 0 else 0.0


def whole_image_box(width: int, height: int) -> PartBox:
    """The square box centred on the image whose side is the image's longer side."""
    return PartBox(cx=0.5 * (width - 1), cy=0.5 * (height - 1), size=float(max(width, height)))
