"""Twist of a rotation about an axis: the release's angle formula, its clamp, and the clean math.

PyMAF-X removes excess forearm twist from the hand-predicted wrist rotation and moves it into the
elbow. `twist_angle` and `compensation_angle` reproduce the released code (used for parity);
`swing_twist_decompose` and `signed_twist_angle` are the textbook decomposition, used by tests
and as the explanation. Where they differ (README section 9):

- the release's angle is sum(axis-angle of the twist) / sum(axis components). For a unit axis
  whose components do not sum to ~0 this equals the signed twist angle in [-pi, pi]; when they
  do (an axis nearly orthogonal to (1, 1, 1)) the ratio is ill-conditioned and the release's
  angle can be far off. The paper instead writes 2 * acos(w) (unsigned).
- the release clamps at +-0.4 pi (72 degrees); the paper says +-90 degrees.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from pymafx_ros.model.rotations import (
    quaternion_to_axis_angle,
    quaternion_to_rotmat,
    rotmat_to_quaternion,
    rotmat_to_quaternion_xyzw,
)

# Twist the released model tolerates in the wrist before handing the excess to the elbow.
RELEASE_TWIST_LIMIT = 0.4 * math.pi


def _check_pair(rotmat: Tensor, axis: Tensor, name: str) -> None:
    if rotmat.shape[-2:] != (3, 3) or axis.shape[-1:] != (3,):
        raise ValueError(
            f"{name}: expected rotmat [..., 3, 3] and axis [..., 3], got "
            f"{tuple(rotmat.shape)} and {tuple(axis.shape)}"
        )
    if rotmat.shape[:-2] != axis.shape[:-1]:
        raise ValueError(
            f"{name}: leading dims differ, rotmat {tuple(rotmat.shape[:-2])} vs axis "
            f"{tuple(axis.shape[:-1])}; give one axis per rotation"
        )


def twist_angle(rotmat: Tensor, axis: Tensor) -> Tensor:
    """Twist angle [..., 1] of rotations [..., 3, 3] about axes [..., 3], as the release codes it.

    Quaternion (official pivot logic) -> keep w and the projection of the vector part on the
    axis -> normalise -> axis-angle -> sum of its components over the sum of the axis'.
    """
    _check_pair(rotmat, axis, "twist_angle")
    quaternion = rotmat_to_quaternion(rotmat)
    unit_axis = axis / (torch.linalg.vector_norm(axis, dim=-1, keepdim=True) + 1e-9)
    along = (unit_axis * quaternion[..., 1:]).sum(dim=-1, keepdim=True) * unit_axis
    twist_q = torch.cat((quaternion[..., :1], along), dim=-1)
    twist_q = twist_q / (torch.linalg.vector_norm(twist_q, dim=-1, keepdim=True) + 1e-9)
    twist_aa = quaternion_to_axis_angle(twist_q)
    return twist_aa.sum(dim=-1, keepdim=True) / unit_axis.sum(dim=-1, keepdim=True)


def compensation_angle(angle: Tensor, limit: float = RELEASE_TWIST_LIMIT) -> Tensor:
    """Part of a twist angle beyond +-limit (0 inside [-limit, limit]), as the release clamps it.

    angle > limit -> angle - limit; angle < -limit -> angle + limit; NaN stays NaN.
    """
    if not limit >= 0:
        raise ValueError(f"compensation_angle: limit must be >= 0 radians, got {limit}")
    excess = angle - limit * torch.sign(angle)
    return torch.where(angle.abs() <= limit, torch.zeros_like(angle), excess)


def signed_twist_angle(rotmat: Tensor, axis: Tensor) -> Tensor:
    """Signed twist angle [..., 1] in [-pi, pi] of rotations [..., 3, 3] about axes [..., 3].

    Well defined for every rotation except a half turn about an axis orthogonal to `axis`
    (zero twist quaternion), where any angle is a valid answer and 0 is returned.
    """
    _check_pair(rotmat, axis, "signed_twist_angle")
    xyzw = rotmat_to_quaternion_xyzw(rotmat)
    unit_axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True)
    along = (unit_axis * xyzw[..., :3]).sum(dim=-1, keepdim=True)
    return 2.0 * torch.atan2(along, xyzw[..., 3:])


def swing_twist_decompose(rotmat: Tensor, axis: Tensor) -> tuple[Tensor, Tensor]:
    """Split rotations [..., 3, 3] into (swing, twist), both [..., 3, 3], with R = twist @ swing.

    The twist turns about `axis` [..., 3]; the swing turns about an axis orthogonal to it. The
    twist is the same for R = swing' @ twist (only the swing changes), so this order is chosen
    to match the release, which peels twist off the left of the wrist rotation (W' = E^T W).
    """
    _check_pair(rotmat, axis, "swing_twist_decompose")
    xyzw = rotmat_to_quaternion_xyzw(rotmat)
    unit_axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True)
    along = (unit_axis * xyzw[..., :3]).sum(dim=-1, keepdim=True) * unit_axis
    twist_q = torch.cat((xyzw[..., 3:], along), dim=-1)
    # Half turn orthogonal to the axis: no twist to speak of, use the identity.
    degenerate = torch.linalg.vector_norm(twist_q, dim=-1, keepdim=True) < 1e-7
    identity = torch.cat(
        (torch.ones_like(twist_q[..., :1]), torch.zeros_like(twist_q[..., 1:])), -1
    )
    twist = quaternion_to_rotmat(torch.where(degenerate, identity, twist_q))
    swing = twist.transpose(-1, -2) @ rotmat
    return swing, twist
