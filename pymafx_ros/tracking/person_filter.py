"""Causal temporal filtering of one tracked person's SMPL-X parameters, driven by image stamps.

Per group (parameters in :class:`SmoothingConfig`): local joint rotations on the unit-quaternion
manifold (root, body, hands, face separately), the root translation as a point (the ``position``
group), expression coefficients as points; betas are averaged over the track's life. Only the
parameters are filtered: axis-angle parameters and global joint rotations come from the filtered
local rotations, and the caller recomputes joints, fingertips, 2D keypoints and the mesh from the
filtered parameters (``pipeline.body_forward``), so SMPL-X fed the filtered parameters gives
exactly the published joints.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pymafx_ros.config import OneEuroParams, SmoothingConfig
from pymafx_ros.geometry.person import NUM_JOINTS, PersonResult
from pymafx_ros.geometry.skeleton import (
    BODY_JOINTS,
    JAW,
    LEFT_EYE,
    LEFT_HAND_JOINTS,
    RIGHT_EYE,
    RIGHT_HAND_JOINTS,
    SMPLX_PARENTS,
)
from pymafx_ros.tracking.one_euro import PointFilter, RotationFilter

# The 55 local rotations by group: the root, the body (1-21), the face (jaw, eyes), the fingers.
ROTATION_GROUPS = {
    "root": np.array([0]),
    "body": np.arange(1, 22),
    "face": np.arange(JAW, RIGHT_EYE + 1),
    "hands": np.arange(LEFT_HAND_JOINTS.start, 55),
}


class PersonFilter:
    """The filter state of one track; call it once per frame with that frame's result."""

    def __init__(self, config: SmoothingConfig) -> None:
        # One filter over all 55 rotations, each row with its group's parameters: one batched
        # call per frame instead of one per group.
        rows = [OneEuroParams()] * NUM_JOINTS
        for name, indices in ROTATION_GROUPS.items():
            for index in indices:
                rows[index] = getattr(config, name)
        self._rotations = RotationFilter(rows)
        self._transl = PointFilter(config.position)
        self._expression = PointFilter(config.expression)
        self._average_betas = config.average_betas
        self._betas_sum: np.ndarray | None = None
        self._betas_count = 0

    @property
    def lag_ms(self) -> float:
        """The translation filter's current delay estimate (ms, mean over x, y, z)."""
        return 1e3 * float(self._transl.last_lag_s.mean())

    @property
    def rotation_lag_ms(self) -> float:
        """The body rotation filter's current delay estimate (ms, mean over joints 1-21)."""
        lags = self._rotations.last_lag_s
        return 1e3 * float(lags[ROTATION_GROUPS["body"]].mean()) if len(lags) > 1 else 0.0

    def __call__(self, person: PersonResult, dt: float | None) -> PersonResult:
        """The copy of ``person`` with filtered parameters and the global rotations they give;
        ``dt`` seconds since this track's previous frame (None restarts the filter on this
        frame). Joints, fingertips, keypoints and vertices are left for the caller to recompute
        from the parameters."""
        local = self._rotations(_local_rotations(person), dt)
        axis_angle = self._rotations.rotation.as_rotvec()
        expression = self._expression(person.expression[:, None], dt)[:, 0]
        if not person.face_estimated:
            # A face the face expert did not see stays exactly the neutral one it was given
            # (the filter would otherwise leave rounding, or a jaw lagging behind the head).
            face = ROTATION_GROUPS["face"]
            local[face], axis_angle[face] = np.eye(3), 0.0
            expression = person.expression.copy()
        transl = self._transl(person.transl[None], dt)[0]
        changes: dict[str, object] = dict(
            global_orient=axis_angle[0],
            body_pose=axis_angle[BODY_JOINTS].ravel(),
            jaw_pose=axis_angle[JAW],
            leye_pose=axis_angle[LEFT_EYE],
            reye_pose=axis_angle[RIGHT_EYE],
            left_hand_pose=axis_angle[LEFT_HAND_JOINTS].ravel(),
            right_hand_pose=axis_angle[RIGHT_HAND_JOINTS].ravel(),
            joint_rotations=_global_rotations(local),
            transl=transl,
            expression=expression,
            betas=self._betas(person.betas),
        )
        return dataclasses.replace(person, **changes)

    def _betas(self, betas: np.ndarray) -> np.ndarray:
        if not self._average_betas:
            return betas.copy()
        self._betas_sum = betas.copy() if self._betas_sum is None else self._betas_sum + betas
        self._betas_count += 1
        return self._betas_sum / self._betas_count


def _global_rotations(local: np.ndarray) -> np.ndarray:
    """Forward kinematics of the rotations (55, 3, 3) down SMPL-X's tree."""
    rotations = local.copy()
    for joint, parent in enumerate(SMPLX_PARENTS):
        if parent >= 0:
            rotations[joint] = rotations[parent] @ local[joint]
    return rotations


def _local_rotations(person: PersonResult) -> np.ndarray:
    """The 55 local rotations (55, 3, 3) of a result, from its global ones."""
    rotations = person.joint_rotations
    local = rotations.copy()
    for joint, parent in enumerate(SMPLX_PARENTS):
        if parent >= 0:
            local[joint] = rotations[parent].T @ rotations[joint]
    return local
