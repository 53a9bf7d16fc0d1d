"""Rotation conversions used by PyMAF-X, batched over any leading dims and export friendly.

The parity functions (`rot6d_to_rotmat`, `axis_angle_to_rotmat`, `rotmat_to_quaternion`,
`quaternion_to_axis_angle`, `rotmat_to_axis_angle`) reproduce the numerics of the official
release, including its branch choices, with tensor selects instead of Python control flow.
`rotmat_to_quaternion_xyzw` is the robust variant meant for ROS messages.
Written here rather than taken from kornia/pytorch3d/smplx: those are not dependencies (or not
batched over arbitrary dims), and parity needs the release's exact branch logic.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

# Elementwise sign pattern that mirrors a rotation through the x = 0 plane: R * F == M R M,
# M = diag(-1, 1, 1). Left hands are predicted in a flipped image and mirrored back with it.
# Pivot threshold of the official quaternion extraction (kornia's default eps).
_QUATERNION_EPS = 1e-6


def _check_last_dims(x: Tensor, dims: tuple[int, ...], name: str, what: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() < len(dims) or tuple(x.shape[-len(dims) :]) != dims:
        shape = "x".join(str(d) for d in dims)
        raise ValueError(
            f"{name}: expected {what} with trailing shape ({shape}), got {tuple(x.shape)}; "
            f"reshape the input to [..., {', '.join(str(d) for d in dims)}]"
        )


def _cross(u: Tensor, v: Tensor) -> Tensor:
    """Cross product over the last axis, spelled out so that every exporter maps it."""
    ux, uy, uz = u.unbind(-1)
    vx, vy, vz = v.unbind(-1)
    return torch.stack((uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx), dim=-1)


def _normalize(x: Tensor, eps: float = 1e-12) -> Tensor:
    """Unit vectors over the last axis with the same guard as torch.nn.functional.normalize."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(eps)


def rot6d_to_rotmat(x: Tensor) -> Tensor:
    """6D rotation [..., 6] -> rotation matrix [..., 3, 3] (Zhou et al. 2019, interleaved).

    The 6 numbers form a 3x2 matrix read row-major, so its columns are (x0, x2, x4) and
    (x1, x3, x5); Gram-Schmidt gives the first two columns of R, their cross product the third.
    """
    _check_last_dims(x, (6,), "rot6d_to_rotmat", "6D rotations")
    pairs = x.reshape(*x.shape[:-1], 3, 2)
    a1, a2 = pairs[..., 0], pairs[..., 1]
    b1 = _normalize(a1)
    b2 = _normalize(a2 - (b1 * a2).sum(dim=-1, keepdim=True) * b1)
    b3 = _cross(b1, b2)
    return torch.stack((b1, b2, b3), dim=-1)


def rotmat_to_rot6d(rotmat: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> 6D [..., 6]: the first two columns, interleaved row-wise."""
    _check_last_dims(rotmat, (3, 3), "rotmat_to_rot6d", "rotation matrices")
    return rotmat[..., :2].reshape(*rotmat.shape[:-2], 6)


def axis_angle_to_rotmat(axis_angle: Tensor) -> Tensor:
    """Axis-angle [..., 3] -> rotation matrix [..., 3, 3], numerically as smplx batch_rodrigues.

    The 1e-8 offset inside the norm keeps the zero vector finite (it maps to the identity).
    """
    _check_last_dims(axis_angle, (3,), "axis_angle_to_rotmat", "axis-angle vectors")
    angle = torch.linalg.vector_norm(axis_angle + 1e-8, dim=-1, keepdim=True)
    rx, ry, rz = (axis_angle / angle).unbind(-1)
    zeros = torch.zeros_like(rx)
    skew = torch.stack((zeros, -rz, ry, rz, zeros, -rx, -ry, rx, zeros), dim=-1)
    skew = skew.reshape(*axis_angle.shape[:-1], 3, 3)
    sin = torch.sin(angle).unsqueeze(-1)
    cos = torch.cos(angle).unsqueeze(-1)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + sin * skew + (1 - cos) * (skew @ skew)


def rotmat_to_quaternion(rotmat: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> quaternion [..., 4] (w, x, y, z) as the official code does.

    Same pivot choice as the release's kornia-derived function (it reads the transposed matrix
    and switches on its diagonal with eps 1e-6), so the sign of the result (w may be negative)
    matches it too. Unit length for orthonormal input.
    """
    _check_last_dims(rotmat, (3, 3), "rotmat_to_quaternion", "rotation matrices")
    m = rotmat.transpose(-1, -2)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]

    t0 = 1 + m00 - m11 - m22
    t1 = 1 - m00 + m11 - m22
    t2 = 1 - m00 - m11 + m22
    t3 = 1 + m00 + m11 + m22
    q0 = torch.stack((m12 - m21, t0, m01 + m10, m20 + m02), dim=-1)
    q1 = torch.stack((m20 - m02, m01 + m10, t1, m12 + m21), dim=-1)
    q2 = torch.stack((m01 - m10, m20 + m02, m12 + m21, t2), dim=-1)
    q3 = torch.stack((t3, m12 - m21, m20 - m02, m01 - m10), dim=-1)

    # Pivot on t0/t1 when the (transposed) z diagonal is small, else on t2/t3.
    low_z = m22 < _QUATERNION_EPS
    x_over_y = m00 > m11
    x_under_neg_y = m00 < -m11
    t = torch.where(low_z, torch.where(x_over_y, t0, t1), torch.where(x_under_neg_y, t2, t3))
    q = torch.where(
        low_z[..., None],
        torch.where(x_over_y[..., None], q0, q1),
        torch.where(x_under_neg_y[..., None], q2, q3),
    )
    return q / torch.sqrt(t).unsqueeze(-1) * 0.5


def quaternion_to_axis_angle(quaternion: Tensor) -> Tensor:
    """Quaternion [..., 4] (w, x, y, z) -> axis-angle [..., 3], as the official kornia-style code.

    Handles w < 0 by using the equivalent quaternion -q, so the angle lies in [-pi, pi]; the
    identity (zero vector part) maps to 2 * (x, y, z) = 0.
    """
    _check_last_dims(quaternion, (4,), "quaternion_to_axis_angle", "quaternions")
    cos_half = quaternion[..., 0]
    vec = quaternion[..., 1:]
    sin_sq = (vec[..., 0] * vec[..., 0] + vec[..., 1] * vec[..., 1]) + vec[..., 2] * vec[..., 2]
    sin_half = torch.sqrt(sin_sq)
    angle = 2.0 * torch.where(
        cos_half < 0.0,
        torch.atan2(-sin_half, -cos_half),
        torch.atan2(sin_half, cos_half),
    )
    scale = torch.where(sin_sq > 0.0, angle / sin_half, torch.full_like(sin_half, 2.0))
    return vec * scale.unsqueeze(-1)


def rotmat_to_axis_angle(rotmat: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> axis-angle [..., 3] via the official quaternion path.

    NaN components (degenerate pivots) become 0, as in the release.
    """
    axis_angle = quaternion_to_axis_angle(rotmat_to_quaternion(rotmat))
    return torch.where(torch.isnan(axis_angle), torch.zeros_like(axis_angle), axis_angle)


def quaternion_to_rotmat(quaternion: Tensor) -> Tensor:
    """Quaternion [..., 4] (w, x, y, z) -> rotation matrix [..., 3, 3]; normalises first."""
    _check_last_dims(quaternion, (4,), "quaternion_to_rotmat", "quaternions")
    q = quaternion / torch.linalg.vector_norm(quaternion, dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rows = (
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    )  # fmt: skip
    return torch.stack(rows, dim=-1).reshape(*quaternion.shape[:-1], 3, 3)


def rotmat_to_quaternion_xyzw(rotmat: Tensor) -> Tensor:
    """Rotation matrix [..., 3, 3] -> unit quaternion [..., 4] (x, y, z, w) with w >= 0.

    For ROS messages (geometry_msgs/Quaternion order). Same rotation as `rotmat_to_quaternion`
    (which is w-first and may return -q); this one pivots on the largest of (trace, R00, R11,
    R22) (Shepperd's method), so it never divides by a small number, then renormalises and fixes
    the sign. Only the convention differs from the parity function, not the rotation.
    """
    _check_last_dims(rotmat, (3, 3), "rotmat_to_quaternion_xyzw", "rotation matrices")
    r = rotmat
    r00, r01, r02 = r[..., 0, 0], r[..., 0, 1], r[..., 0, 2]
    r10, r11, r12 = r[..., 1, 0], r[..., 1, 1], r[..., 1, 2]
    r20, r21, r22 = r[..., 2, 0], r[..., 2, 1], r[..., 2, 2]
    trace = r00 + r11 + r22

    # Each candidate is 4 * pivot * q (x, y, z, w); only its direction matters before normalising.
    by_w = torch.stack((r21 - r12, r02 - r20, r10 - r01, 1 + trace), dim=-1)
    by_x = torch.stack((1 + r00 - r11 - r22, r01 + r10, r02 + r20, r21 - r12), dim=-1)
    by_y = torch.stack((r01 + r10, 1 - r00 + r11 - r22, r12 + r21, r02 - r20), dim=-1)
    by_z = torch.stack((r02 + r20, r12 + r21, 1 - r00 - r11 + r22, r10 - r01), dim=-1)

    pivots = torch.stack((trace, r00, r11, r22), dim=-1)
    best = pivots.argmax(dim=-1, keepdim=True).unsqueeze(-1).expand(*trace.shape, 1, 4)
    candidates = torch.stack((by_w, by_x, by_y, by_z), dim=-2)
    q = torch.gather(candidates, -2, best).squeeze(-2)
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    return torch.where(q[..., 3:] < 0, -q, q)


def mirror_hand_rotmat(rotmat: Tensor) -> Tensor:
    """Mirror rotations [..., 3, 3] through the x = 0 plane (M R M, M = diag(-1, 1, 1)).

    Maps a left hand predicted in the flipped image to the body's frame and back (involution).
    """
    _check_last_dims(rotmat, (3, 3), "mirror_hand_rotmat", "rotation matrices")
    # Negate row 0 and column 0 except their shared entry, without a sign tensor from the host.
    first_row = torch.cat((rotmat[..., :1, :1], -rotmat[..., :1, 1:]), dim=-1)
    other_rows = torch.cat((-rotmat[..., 1:, :1], rotmat[..., 1:, 1:]), dim=-1)
    return torch.cat((first_row, other_rows), dim=-2)


def forward_kinematics_rotations(local_rotmat: Tensor, parents: Sequence[int]) -> Tensor:
    """Chain local rotations [..., J, 3, 3] along a kinematic tree -> global rotations.

    `parents[j]` is the parent of joint j (-1 for the root, parents before children), as in
    SMPL/SMPL-X. The tree is static, so the Python loop unrolls into a fixed graph on export.
    """
    _check_last_dims(local_rotmat, (3, 3), "forward_kinematics_rotations", "rotation matrices")
    num_joints = local_rotmat.shape[-3] if local_rotmat.dim() >= 3 else 0
    if len(parents) != num_joints:
        raise ValueError(
            f"forward_kinematics_rotations: {len(parents)} parents for {num_joints} joints; "
            "pass one parent index per joint of local_rotmat[..., J, 3, 3]"
        )
    if num_joints == 0 or parents[0] != -1:
        raise ValueError("forward_kinematics_rotations: joint 0 must be the root (parent -1)")
    for joint, parent in enumerate(parents[1:], start=1):
        if not 0 <= parent < joint:
            raise ValueError(
                f"forward_kinematics_rotations: parent {parent} of joint {joint} must come "
                "before it; order the joints so that parents precede children"
            )
    chain = [local_rotmat[..., 0, :, :]]
    for joint in range(1, num_joints):
        chain.append(chain[parents[joint]] @ local_rotmat[..., joint, :, :])
    return torch.stack(chain, dim=-3)
