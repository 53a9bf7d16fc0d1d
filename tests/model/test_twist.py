"""Twist about an axis: the clean decomposition, the release's angle formula and its clamp."""

from __future__ import annotations

import math

import pytest
import torch

from pymafx_ros.model.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from pymafx_ros.model.twist import (
    RELEASE_TWIST_LIMIT,
    compensation_angle,
    signed_twist_angle,
    swing_twist_decompose,
    twist_angle,
)

torch.set_num_threads(2)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=-1)


def _random_rotations_and_axes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    aa = _unit(torch.randn(n, 3, generator=g)) * torch.rand(n, 1, generator=g) * math.pi
    return axis_angle_to_rotmat(aa), _unit(torch.randn(n, 3, generator=g))


def _compose(axis: torch.Tensor, twist: float, swing: float, seed: int) -> torch.Tensor:
    """R = twist(axis, twist) @ swing(axis orthogonal to `axis`, swing), axis [N, 3]."""
    g = torch.Generator().manual_seed(seed)
    ortho = _unit(torch.linalg.cross(axis, torch.randn(axis.shape, generator=g)))
    return axis_angle_to_rotmat(axis * twist) @ axis_angle_to_rotmat(ortho * swing)


def test_swing_twist_recomposes_the_rotation():
    rotmat, axis = _random_rotations_and_axes(2000, seed=0)
    swing, twist = swing_twist_decompose(rotmat, axis)
    torch.testing.assert_close(twist @ swing, rotmat, atol=2e-6, rtol=0)


def test_twist_turns_about_the_axis_and_swing_orthogonal_to_it():
    rotmat, axis = _random_rotations_and_axes(2000, seed=1)
    swing, twist = swing_twist_decompose(rotmat, axis)
    torch.testing.assert_close((twist @ axis[..., None])[..., 0], axis, atol=2e-6, rtol=0)
    swing_axis = rotmat_to_axis_angle(swing.double())
    assert (swing_axis * axis.double()).sum(-1).abs().max() < 1e-5
    twist_aa = rotmat_to_axis_angle(twist.double()).float()
    torch.testing.assert_close(
        twist_aa, axis * signed_twist_angle(rotmat, axis), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("twist", [-2.8, -1.9, -0.6, 0.0, 0.3, 1.2, 2.5])
def test_decomposition_recovers_a_known_twist(twist):
    axis = _unit(torch.tensor([[0.3, -0.9, 0.2], [1.0, 0.1, 0.1], [-0.5, -0.5, -0.7]]))
    rotmat = _compose(axis, twist, swing=0.7, seed=2)
    torch.testing.assert_close(
        signed_twist_angle(rotmat, axis), torch.full((3, 1), twist), atol=2e-6, rtol=0
    )
    _, recovered = swing_twist_decompose(rotmat, axis)
    torch.testing.assert_close(recovered, axis_angle_to_rotmat(axis * twist), atol=2e-6, rtol=0)


def test_release_angle_equals_decomposition_when_well_conditioned():
    rotmat, axis = _random_rotations_and_axes(4000, seed=3)
    reference = signed_twist_angle(rotmat, axis)
    # Away from the sum(axis) ~ 0 hazard and from the +-pi wrap-around.
    ok = (axis.sum(-1).abs() > 0.3) & (reference[:, 0].abs() < 3.1)
    assert ok.sum() > 2000
    release = twist_angle(rotmat, axis)
    torch.testing.assert_close(release[ok], reference[ok], atol=5e-5, rtol=0)


def test_release_angle_is_ill_conditioned_when_axis_components_cancel():
    axis = _unit(torch.tensor([[1.0, -1.0, 0.0]]))
    rotmat = axis_angle_to_rotmat(axis * 0.5)
    torch.testing.assert_close(signed_twist_angle(rotmat, axis), torch.tensor([[0.5]]))
    assert not torch.isfinite(twist_angle(rotmat, axis)).all()


def test_release_angle_with_unnormalised_axis_and_leading_dims():
    axis = torch.tensor([[[0.1, 0.5, 0.2]], [[-0.4, -0.2, -0.1]]])
    rotmat = _compose(_unit(axis.reshape(2, 3)), 1.3, swing=0.4, seed=4).reshape(2, 1, 3, 3)
    torch.testing.assert_close(
        twist_angle(rotmat, axis), torch.full((2, 1, 1), 1.3), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("section", ["A", "B", "C", "D"])
@pytest.mark.parametrize("side", ["l", "r"])
def test_release_angle_matches_fixture(parity_fixture, section, side):
    def get(name):
        return torch.from_numpy(parity_fixture[f"{section}_feat_integr_{side}_{name}"])

    angle = twist_angle(get("wrist_local_in"), get("twist_axis"))
    torch.testing.assert_close(angle, get("twist_angle_raw"), atol=1e-5, rtol=0)


def test_compensation_follows_the_release_clamp():
    limit = 0.4 * math.pi
    angle = torch.tensor([0.0, 0.5, -1.0, limit, -limit, 1.5, -1.5, 2.0, -2.5, math.nan])
    expected = torch.tensor(
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.5 - limit, -1.5 + limit, 2.0 - limit, -2.5 + limit, math.nan]
    )
    torch.testing.assert_close(compensation_angle(angle), expected, equal_nan=True)
    assert math.isclose(RELEASE_TWIST_LIMIT, math.radians(72))
    # 86 degrees: inside the paper's +-90 degrees, but the release already compensates.
    assert compensation_angle(torch.tensor(math.radians(86))) > 0


def test_compensation_limit_is_a_parameter_and_must_be_valid():
    torch.testing.assert_close(
        compensation_angle(torch.tensor([2.0]), limit=1.0), torch.tensor([1.0])
    )
    with pytest.raises(ValueError, match="limit"):
        compensation_angle(torch.tensor([2.0]), limit=-1.0)


def test_mismatched_inputs_are_named():
    with pytest.raises(ValueError, match="leading dims"):
        twist_angle(torch.eye(3).expand(2, 3, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"axis \[\.\.\., 3\]"):
        swing_twist_decompose(torch.eye(3).expand(2, 3, 3), torch.ones(2, 4))
