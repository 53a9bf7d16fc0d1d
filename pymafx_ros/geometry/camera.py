"""Pinhole camera geometry: intrinsics, the documented default for an uncalibrated camera, and
projection of camera-frame points to pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pymafx_ros.config import DEFAULT_FOV_DEG, PipelineConfig, check_value


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels; ``from_camera_info`` is False for the documented default."""

    fx: float
    fy: float
    cx: float
    cy: float
    from_camera_info: bool = True

    def matrix(self) -> np.ndarray:
        """The 3x3 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


def default_intrinsics(width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG) -> Intrinsics:
    """Pinhole intrinsics for an uncalibrated camera: horizontal field of view ``fov_deg``.

    fx = fy = (width / 2) / tan(fov / 2), principal point at the image centre ((W-1)/2, (H-1)/2
    in pixel-centre coordinates); marked ``from_camera_info=False``.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    check_value(PipelineConfig, "default_fov_deg", fov_deg)
    focal = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return Intrinsics(focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, from_camera_info=False)


def project_points(points: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pinhole projection of camera-frame points (..., 3) in metres -> pixels (..., 2)."""
    points = np.asarray(points, dtype=np.float64)
    z = points[..., 2]
    u = intrinsics.fx * points[..., 0] / z + intrinsics.cx
    v = intrinsics.fy * points[..., 1] / z + intrinsics.cy
    return np.stack([u, v], axis=-1)
