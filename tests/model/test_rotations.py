"""Rotation conversions: known values, round trips, official numerics and the parity fixture."""

from __future__ import annotations

import math

import pytest
import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues

from pymafx_ros.model.rotations import (
    axis_angle_to_rotmat,
    forward_kinematics_rotations,
    mirror_hand_rotmat,
    quaternion_to_axis_angle,
    quaternion_to_rotmat,
    rot6d_to_rotmat,
    rotmat_to_axis_angle,
    rotmat_to_quaternion,
    rotmat_to_quaternion_xyzw,
    rotmat_to_rot6d,
)

torch.set_num_threads(2)

SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
MESH_OUT_PREFIXES = ("A_m0_", "A_m1_", "A_m2_", "A_m3_", "B_m3_", "C_out_", "D_out_")


def _random_axis_angle(n: int, seed: int, max_angle: float = math.pi) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=-1)
    return axis * (torch.rand(n, 1, generator=g) * 2 - 1) * max_angle


def _assert_rotations(rotmat: torch.Tensor, atol: float = 1e-5) -> None:
    eye = torch.eye(3).expand_as(rotmat)
    torch.testing.assert_close(rotmat @ rotmat.transpose(-1, -2), eye, atol=atol, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(rotmat), torch.ones(rotmat.shape[:-2]), atol=atol, rtol=0
    )


def test_rot6d_layout_is_interleaved():
    # columns are (x0, x2, x4) = y and (x1, x3, x5) = x; the third is their cross product, -z.
    rotmat = rot6d_to_rotmat(torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    expected = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    torch.testing.assert_close(rotmat, expected)
    torch.testing.assert_close(rot6d_to_rotmat(torch.tensor([1.0, 0, 0, 1, 0, 0])), torch.eye(3))


def test_rot6d_gives_rotations_for_any_leading_dims():
    x = torch.randn(2, 5, 6, generator=torch.Generator().manual_seed(1))
    rotmat = rot6d_to_rotmat(x)
    assert rotmat.shape == (2, 5, 3, 3)
    _assert_rotations(rotmat)
    torch.testing.assert_close(rotmat[1, 3], rot6d_to_rotmat(x[1, 3]))


def test_rot6d_round_trip():
    rotmat = axis_angle_to_rotmat(_random_axis_angle(64, seed=2))
    torch.testing.assert_close(rot6d_to_rotmat(rotmat_to_rot6d(rotmat)), rotmat, atol=1e-6, rtol=0)
    x = rotmat_to_rot6d(
        rot6d_to_rotmat(torch.randn(64, 6, generator=torch.Generator().manual_seed(14)))
    )
    torch.testing.assert_close(rotmat_to_rot6d(rot6d_to_rotmat(x)), x, atol=1e-6, rtol=0)


@pytest.mark.parametrize("prefix", MESH_OUT_PREFIXES)
def test_rot6d_matches_official_on_fixture(parity_fixture, prefix):
    pose6d = torch.from_numpy(parity_fixture[f"{prefix}pred_pose"]).reshape(-1, 24, 6)
    expected = torch.from_numpy(parity_fixture[f"{prefix}rotmat_preintegr"])
    torch.testing.assert_close(rot6d_to_rotmat(pose6d), expected, atol=1e-6, rtol=0)


def test_axis_angle_to_rotmat_matches_smplx_bitwise():
    aa = torch.cat((_random_axis_angle(496, seed=3), torch.zeros(1, 3)))
    assert torch.equal(axis_angle_to_rotmat(aa), batch_rodrigues(aa))
    assert torch.equal(
        axis_angle_to_rotmat(aa.reshape(-1, 7, 3)).reshape(-1, 3, 3), batch_rodrigues(aa)
    )


def test_axis_angle_to_rotmat_known_value():
    quarter_turn_z = axis_angle_to_rotmat(torch.tensor([0.0, 0.0, math.pi / 2]))
    torch.testing.assert_close(
        quarter_turn_z @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    )
    torch.testing.assert_close(axis_angle_to_rotmat(torch.zeros(3)), torch.eye(3))


def test_rotmat_to_quaternion_represents_the_rotation():
    aa = torch.cat((_random_axis_angle(2000, seed=4), _random_axis_angle(200, seed=5) * 1e-3))
    rotmat = axis_angle_to_rotmat(aa)
    q = rotmat_to_quaternion(rotmat)
    torch.testing.assert_close(q.norm(dim=-1), torch.ones(len(aa)), atol=1e-5, rtol=0)
    torch.testing.assert_close(quaternion_to_rotmat(q), rotmat, atol=2e-5, rtol=0)
    assert (q[:, 0] < 0).any(), "some pivots of the official logic give w < 0; none was hit"


@pytest.mark.parametrize(
    ("axis_angle", "expected_wxyz"),
    [
        # small angle: trace pivot, the usual (cos, sin * axis)
        ((0.0, 0.0, 0.4), (math.cos(0.2), 0.0, 0.0, math.sin(0.2))),
        # half turn about x: R22 = -1 < eps, R00 > R11 -> x pivot
        ((math.pi, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0)),
        # -3 rad about x: x pivot returns -q of the usual quaternion, i.e. w < 0
        ((-3.0, 0.0, 0.0), (-math.cos(1.5), math.sin(1.5), 0.0, 0.0)),
        # half turn about y: y pivot
        ((0.0, math.pi, 0.0), (0.0, 0.0, 1.0, 0.0)),
        # half turn about z: R22 = 1, R00 < -R11 -> z pivot
        ((0.0, 0.0, math.pi), (0.0, 0.0, 0.0, 1.0)),
    ],
)
def test_rotmat_to_quaternion_pivots_and_signs(axis_angle, expected_wxyz):
    q = rotmat_to_quaternion(axis_angle_to_rotmat(torch.tensor(axis_angle, dtype=torch.float64)))
    torch.testing.assert_close(
        q, torch.tensor(expected_wxyz, dtype=torch.float64), atol=1e-7, rtol=0
    )


def test_quaternion_to_axis_angle_known_values_and_sign_invariance():
    q = torch.tensor([math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0])
    torch.testing.assert_close(quaternion_to_axis_angle(q), torch.tensor([0.0, math.pi / 2, 0.0]))
    torch.testing.assert_close(quaternion_to_axis_angle(-q), quaternion_to_axis_angle(q))
    identity = torch.tensor([1.0, 0.0, 0.0, 0.0])
    assert torch.equal(quaternion_to_axis_angle(identity), torch.zeros(3))


def test_rotmat_to_axis_angle_round_trip_and_nan_to_zero():
    aa = _random_axis_angle(1000, seed=6, max_angle=3.1)
    torch.testing.assert_close(
        rotmat_to_axis_angle(axis_angle_to_rotmat(aa)), aa, atol=5e-5, rtol=0
    )
    batched = axis_angle_to_rotmat(aa).reshape(10, 100, 3, 3)
    assert rotmat_to_axis_angle(batched).shape == (10, 100, 3)
    assert torch.equal(rotmat_to_axis_angle(torch.full((2, 3, 3), math.nan)), torch.zeros(2, 3))


def test_rotmat_to_quaternion_xyzw_is_unit_positive_and_same_rotation():
    g = torch.Generator().manual_seed(13)
    near_half_turns = torch.nn.functional.normalize(torch.randn(300, 3, generator=g), dim=-1)
    near_half_turns = near_half_turns * (math.pi - 1e-4)
    aa = torch.cat((_random_axis_angle(1000, seed=7), near_half_turns, torch.zeros(1, 3)))
    rotmat = axis_angle_to_rotmat(aa)
    xyzw = rotmat_to_quaternion_xyzw(rotmat)
    assert (xyzw[:, 3] >= 0).all()
    torch.testing.assert_close(xyzw.norm(dim=-1), torch.ones(len(aa)), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        quaternion_to_rotmat(xyzw[:, [3, 0, 1, 2]]), rotmat, atol=2e-6, rtol=0
    )
    # Same rotation as the parity function, which may return the negated quaternion.
    wxyz = rotmat_to_quaternion(rotmat)
    sign = torch.where(wxyz[:, :1] < 0, -1.0, 1.0)
    well_posed = wxyz[:, 0].abs() > 1e-3
    torch.testing.assert_close(
        (sign * wxyz)[well_posed], xyzw[well_posed][:, [3, 0, 1, 2]], atol=1e-5, rtol=0
    )


def test_mirror_is_m_r_m_and_an_involution():
    rotmat = axis_angle_to_rotmat(_random_axis_angle(50, seed=8))
    m = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))
    torch.testing.assert_close(mirror_hand_rotmat(rotmat), m @ rotmat @ m)
    assert torch.equal(mirror_hand_rotmat(mirror_hand_rotmat(rotmat)), rotmat)
    _assert_rotations(mirror_hand_rotmat(rotmat))


def test_forward_kinematics_matches_smplx_rigid_transform():
    local = axis_angle_to_rotmat(_random_axis_angle(3 * 24, seed=9)).reshape(3, 24, 3, 3)
    joints = torch.randn(3, 24, 3, generator=torch.Generator().manual_seed(10))
    _, relative = batch_rigid_transform(local, joints, torch.tensor(SMPL_PARENTS))
    global_rotmat = forward_kinematics_rotations(local, SMPL_PARENTS)
    torch.testing.assert_close(global_rotmat, relative[..., :3, :3], atol=1e-6, rtol=0)


def test_forward_kinematics_chain_product_with_extra_leading_dims():
    local = axis_angle_to_rotmat(_random_axis_angle(2 * 3 * 4, seed=11)).reshape(2, 3, 4, 3, 3)
    parents = (-1, 0, 1, 1)
    global_rotmat = forward_kinematics_rotations(local, parents)
    torch.testing.assert_close(
        global_rotmat[..., 2, :, :],
        local[..., 0, :, :] @ local[..., 1, :, :] @ local[..., 2, :, :],
    )
    torch.testing.assert_close(
        global_rotmat[..., 3, :, :],
        local[..., 0, :, :] @ local[..., 1, :, :] @ local[..., 3, :, :],
    )


@pytest.mark.parametrize(
    ("parents", "message"),
    [((-1, 0), "2 parents for 3 joints"), ((0, 0, 1), "root"), ((-1, 2, 0), "must come before")],
)
def test_forward_kinematics_rejects_bad_trees(parents, message):
    with pytest.raises(ValueError, match=message):
        forward_kinematics_rotations(torch.eye(3).expand(3, 3, 3), parents)


@pytest.mark.parametrize(
    ("function", "bad_input"),
    [
        (rot6d_to_rotmat, torch.zeros(4, 3, 2)),
        (axis_angle_to_rotmat, torch.zeros(4, 4)),
        (rotmat_to_quaternion, torch.zeros(4, 3, 4)),
        (quaternion_to_axis_angle, torch.zeros(4, 3)),
        (mirror_hand_rotmat, torch.zeros(3)),
    ],
)
def test_bad_shapes_are_named(function, bad_input):
    with pytest.raises(ValueError, match=r"trailing shape"):
        function(bad_input)


def test_float64_is_kept():
    aa = _random_axis_angle(10, seed=12).double()
    assert rotmat_to_axis_angle(axis_angle_to_rotmat(aa)).dtype == torch.float64
    assert rot6d_to_rotmat(torch.ones(6, dtype=torch.float64)).dtype == torch.float64
