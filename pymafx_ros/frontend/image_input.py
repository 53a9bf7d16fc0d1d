"""Validation of the frames handed to a detector: (H,W,3) uint8 RGB, nothing else."""

from __future__ import annotations

import numpy as np


def check_rgb(rgb: object) -> np.ndarray:
    """Return ``rgb`` as a C-contiguous (H,W,3) uint8 array, or raise a ValueError that says
    what is wrong with it and how to convert it."""
    if not isinstance(rgb, np.ndarray):
        raise ValueError(
            f"image must be a numpy array (H,W,3) uint8 RGB, got {type(rgb).__name__}"
        )
    if rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 1):
        raise ValueError(
            f"image is grayscale with shape {rgb.shape}; expected (H,W,3) RGB: convert it, "
            "e.g. cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)"
        )
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        hint = (
            " (drop the alpha channel: img[..., :3])"
            if rgb.ndim == 3 and rgb.shape[2] == 4
            else ""
        )
        raise ValueError(f"image must have shape (H,W,3) RGB, got {rgb.shape}{hint}")
    if rgb.dtype != np.uint8:
        raise ValueError(
            f"image must be uint8 (0..255), got {rgb.dtype}; for floats in [0,1] use "
            "(img * 255).round().astype(np.uint8)"
        )
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ValueError(f"image is too small: {rgb.shape[1]}x{rgb.shape[0]} pixels")
    return np.ascontiguousarray(rgb)
