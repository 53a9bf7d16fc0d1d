"""One Euro filters (Casiez et al., CHI 2012) driven by sample times, for points and rotations.

A One Euro filter is an exponential smoother whose cutoff rises with the signal's speed: still
signals are smoothed hard (little jitter), fast ones lightly (little lag). Each row of a batch
is one point or one rotation with its own speed and cutoff. Times come from the image stamps,
so a dropped frame or an irregular camera changes the smoothing factor, not the behaviour.
Rotations are filtered on the unit-quaternion manifold: the step from the last output to the
new sample is taken as a rotation vector and only a fraction of it is applied, so outputs are
always unit quaternions on the same hemisphere as the previous one (no sign flips).
Written here: the PyPI One Euro packages filter scalars only, with no rotation variant.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.config import OneEuroParams
from pymafx_ros.geometry.hemispheres import same_hemisphere


def smoothing_factor(dt: float, cutoff: np.ndarray | float) -> np.ndarray:
    """Weight of the new sample for a first-order low-pass at ``cutoff`` Hz after ``dt`` s."""
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


def lag_seconds(dt: float, alpha: np.ndarray) -> np.ndarray:
    """Delay of a first-order smoother with weight ``alpha`` at step ``dt``: (1 - a) / a * dt."""
    return dt * (1.0 - alpha) / alpha


def _row_params(params: OneEuroParams | list[OneEuroParams]) -> np.ndarray:
    """(3, N, 1) min_cutoff, beta, d_cutoff per row, or (3, 1, 1) for one set for all rows."""
    rows = [params] if isinstance(params, OneEuroParams) else params
    return np.array([[[p.min_cutoff], [p.beta], [p.d_cutoff]] for p in rows]).transpose(1, 0, 2)


class PointFilter:
    """One Euro filter for a batch of N points (N, D) in any units; ``params`` for all rows or
    one per row. ``last_lag_s`` (N,) holds each row's current delay estimate."""

    def __init__(self, params: OneEuroParams | list[OneEuroParams]) -> None:
        self._params = _row_params(params)
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None  # (N, D) filtered velocity
        self.last_lag_s = np.zeros(1)

    def __call__(self, value: np.ndarray, dt: float | None) -> np.ndarray:
        """The filtered (N, D) sample; ``dt`` (s) since the previous one, None to restart."""
        value = np.asarray(value, dtype=np.float64)
        if dt is None or self._value is None or self._value.shape != value.shape or dt <= 0:
            self._value, self._speed = value.copy(), np.zeros_like(value)
            self.last_lag_s = np.zeros(len(value))
            return value.copy()
        min_cutoff, beta, d_cutoff = self._params
        velocity = (value - self._value) / dt
        self._speed += smoothing_factor(dt, d_cutoff) * (velocity - self._speed)
        speed = np.linalg.norm(self._speed, axis=-1, keepdims=True)
        alpha = smoothing_factor(dt, min_cutoff + beta * speed)
        self._value = self._value + alpha * (value - self._value)
        self.last_lag_s = lag_seconds(dt, alpha)[:, 0]
        return self._value.copy()


class RotationFilter:
    """One Euro filter for a batch of N rotations, given and returned as (N, 3, 3) matrices;
    ``params`` for all rows or one per row. After a call, :attr:`rotation` is the output as a
    scipy ``Rotation``, :attr:`quaternions` as unit quaternions (N, 4) x, y, z, w, and
    ``last_lag_s`` (N,) each row's delay estimate."""

    def __init__(self, params: OneEuroParams | list[OneEuroParams]) -> None:
        self._params = _row_params(params)
        self.rotation: Rotation | None = None
        self._speed: np.ndarray | None = None  # (N, 3) filtered angular velocity, rad/s
        self.quaternions: np.ndarray | None = None
        self.last_lag_s = np.zeros(1)

    def __call__(self, rotmats: np.ndarray, dt: float | None) -> np.ndarray:
        """The filtered rotations (N, 3, 3); ``dt`` (s) since the previous sample, None to
        restart."""
        sample = Rotation.from_matrix(np.asarray(rotmats, dtype=np.float64))
        restart = self.rotation is None or len(self.rotation) != len(sample)
        if dt is None or dt <= 0 or restart:
            self.rotation, self._speed = sample, np.zeros((len(sample), 3))
            self.last_lag_s = np.zeros(len(sample))
            self.quaternions = same_hemisphere(sample.as_quat(), None)
            return sample.as_matrix()
        min_cutoff, beta, d_cutoff = self._params
        # The shortest rotation from the last output to the sample, in the output's own frame.
        step = (self.rotation.inv() * sample).as_rotvec()
        self._speed += smoothing_factor(dt, d_cutoff) * (step / dt - self._speed)
        speed = np.linalg.norm(self._speed, axis=-1, keepdims=True)
        alpha = smoothing_factor(dt, min_cutoff + beta * speed)
        self.rotation = self.rotation * Rotation.from_rotvec(alpha * step)
        self.quaternions = same_hemisphere(self.rotation.as_quat(), self.quaternions)
        self.last_lag_s = lag_seconds(dt, alpha)[:, 0]
        return self.rotation.as_matrix()
