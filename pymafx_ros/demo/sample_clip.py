"""A sample clip made on the spot from the photo bundled with scikit-image (no download).

``skimage.data.astronaut()`` (512x512, one person, upper body) slides a little left and right and
up and down, so consecutive frames differ like a hand-held camera's.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pymafx_ros.geometry.camera import Intrinsics

SAMPLE_SIZE = 512  # pixels, square like the source photo
SHIFT_PX = 12.0


def sample_frames(count: int, size: int = SAMPLE_SIZE) -> list[np.ndarray]:
    """``count`` (size, size, 3) uint8 RGB frames, each the photo shifted by a few pixels."""
    from skimage.data import astronaut

    photo = astronaut()
    if size != photo.shape[0]:
        photo = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
    frames = []
    for index in range(count):
        phase = 2.0 * math.pi * index / max(count, 1)
        dx, dy = SHIFT_PX * math.sin(phase), 0.5 * SHIFT_PX * math.sin(2.0 * phase)
        shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        frames.append(cv2.warpAffine(photo, shift, (size, size), borderMode=cv2.BORDER_REFLECT))
    return frames


def sample_intrinsics(width: int, height: int, fov_deg: float = 55.0) -> Intrinsics:
    """A plausible calibrated pinhole for the clip (centred, square pixels)."""
    fx = 0.5 * width / math.tan(math.radians(fov_deg) / 2.0)
    return Intrinsics(fx=fx, fy=fx, cx=width / 2.0, cy=height / 2.0, from_camera_info=True)
