"""Zero-lag smoothing of a whole recorded track, and the jitter and lag figures of a track.

A recording has the future: each track is filtered forward with the node's causal filter
(``person_filter.PersonFilter``: rotations on the quaternion manifold, positions in Euclidean
space), then the forward output is filtered again backward in time. The second pass delays by
as much as the first one advanced, so the result has no lag (filtfilt's idea), and the noise is
filtered twice. Betas become the mean over the track's life: the person's shape does not change.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from pymafx_ros.config import SmoothingConfig
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.tracking.people import Posing
from pymafx_ros.tracking.person_filter import PersonFilter
from pymafx_ros.tracking.quality import JITTER_WINDOW, high_pass_rms

SMOOTHING_MODES = ("causal", "offline", "none")
MAX_LAG_FRAMES = 15  # lags searched, in frames either way


def _steps(stamps_s: Sequence[float]) -> list[float | None]:
    """Seconds since the previous frame of the track (None for the first)."""
    return [None] + [float(b - a) for a, b in itertools.pairwise(stamps_s)]


def smooth_track_offline(
    people: Sequence[PersonResult],
    stamps_s: Sequence[float],
    intrinsics: Sequence[Intrinsics],
    config: SmoothingConfig,
    posing: Posing | None = None,
) -> list[PersonResult]:
    """One track's T frames filtered forward then backward (zero lag); stamps increasing. Only
    the SMPL-X parameters are filtered, as the causal filter does; ``posing`` then recomputes
    joints, rotations, keypoints and mesh from them (the pipeline's ``posing``)."""
    if not people:
        return []
    forward = PersonFilter(config)
    ahead = [forward(person, dt) for person, dt in zip(people, _steps(stamps_s), strict=True)]
    backward = PersonFilter(config)
    reversed_steps = _steps([-s for s in reversed(stamps_s)])  # positive steps back in time
    behind = [
        backward(person, dt) for person, dt in zip(reversed(ahead), reversed_steps, strict=True)
    ][::-1]
    betas = np.mean([p.betas for p in people], axis=0) if config.average_betas else None
    smoothed = [
        dataclasses.replace(
            person,
            betas=(betas.copy() if betas is not None else raw.betas.copy()),
            smoothed=True,
            age_frames=raw.age_frames,
        )
        for person, raw in zip(behind, people, strict=True)
    ]
    if posing is None:
        return smoothed
    return [posing(p, k) for p, k in zip(smoothed, intrinsics, strict=True)]


def track_jitter_mm(stamps_s: Sequence[float], joints: np.ndarray) -> float:
    """Mean over ``JITTER_WINDOW``-frame windows of the RMS straight-line high-pass of the
    joints (T, J, 3) in metres, in mm; 0 for a track shorter than a window."""
    stamps = np.asarray(stamps_s, dtype=np.float64)
    if len(stamps) < JITTER_WINDOW:
        return 0.0
    windows = [
        high_pass_rms(stamps[i : i + JITTER_WINDOW], joints[i : i + JITTER_WINDOW])
        for i in range(len(stamps) - JITTER_WINDOW + 1)
    ]
    return 1e3 * float(np.mean(windows))


def track_lag_ms(stamps_s: Sequence[float], reference: np.ndarray, delayed: np.ndarray) -> float:
    """How far ``delayed`` (T, J, 3) trails ``reference`` (T, J, 3) in ms: the shift that best
    lines them up (least squares, refined between frames by a parabola); negative = leads."""
    stamps = np.asarray(stamps_s, dtype=np.float64)
    count = len(stamps)
    if count < 3:
        return 0.0
    ref = np.asarray(reference, dtype=np.float64).reshape(count, -1)
    late = np.asarray(delayed, dtype=np.float64).reshape(count, -1)
    shifts = range(-min(MAX_LAG_FRAMES, count // 3), min(MAX_LAG_FRAMES, count // 3) + 1)
    errors = []
    for shift in shifts:
        # delayed[t] compared with reference[t - shift]
        if shift >= 0:
            a, b = late[shift:], ref[: count - shift]
        else:
            a, b = late[: count + shift], ref[-shift:]
        errors.append(float(np.mean((a - b) ** 2)))
    best = int(np.argmin(errors))
    offset = 0.0
    if 0 < best < len(errors) - 1:
        left, mid, right = errors[best - 1], errors[best], errors[best + 1]
        curvature = left - 2.0 * mid + right
        if curvature > 0:
            offset = 0.5 * (left - right) / curvature
    frame_s = float(np.median(np.diff(stamps)))
    return 1e3 * (list(shifts)[best] + offset) * frame_s
