"""Jitter of a track: RMS of a short high-pass of its joint positions.

The high-pass is the residual of a straight-line fit through the last ``window`` frames (by
stamp), so steady motion counts as none and frame-to-frame noise counts in full; the figure is
the RMS residual over joints, axes and frames, in millimetres. Consumers ask for jitter as the
RMS of an 11-frame high-pass of keypoints, hence the default window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

JITTER_WINDOW = 11


def high_pass_rms(stamps_s: np.ndarray, positions: np.ndarray) -> float:
    """RMS residual (same unit as ``positions`` (T, ..., 3)) of a per-coordinate straight-line
    fit over time ``stamps_s`` (T,); 0 for fewer than 3 samples."""
    if len(stamps_s) < 3:
        return 0.0
    t = np.asarray(stamps_s, dtype=np.float64)
    t = t - t.mean()
    flat = np.asarray(positions, dtype=np.float64).reshape(len(t), -1)
    design = np.column_stack([np.ones_like(t), t])
    coefficients, *_ = np.linalg.lstsq(design, flat, rcond=None)
    residual = flat - design @ coefficients
    return float(np.sqrt(np.mean(residual**2)))


class JitterMeter:
    """Sliding-window jitter of one position stream (mm)."""

    def __init__(self, window: int = JITTER_WINDOW) -> None:
        self._stamps: deque[float] = deque(maxlen=window)
        self._positions: deque[np.ndarray] = deque(maxlen=window)

    def add(self, stamp_s: float, positions_m: np.ndarray) -> float:
        """Add one frame's positions (metres) and return the current jitter in mm."""
        self._stamps.append(stamp_s)
        self._positions.append(np.asarray(positions_m, dtype=np.float64))
        return 1e3 * high_pass_rms(np.array(self._stamps), np.stack(self._positions))


@dataclass(frozen=True)
class TrackQuality:
    """What the filter does for one track: jitter (mm, RMS of an 11-frame high-pass of the
    joints) before and after it, and its current delay estimates (ms)."""

    track_id: str
    age_frames: int
    jitter_raw_mm: float
    jitter_mm: float
    lag_ms: float
    rotation_lag_ms: float
