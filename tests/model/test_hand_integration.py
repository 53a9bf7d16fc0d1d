"""Hand-to-body integration: parity with the release (fixture sections A-D) and its invariants."""

from __future__ import annotations

import math

import pytest
import torch

from pymafx_ros.model.hand_integration import (
    HAND_VISIBILITY_THRESHOLD,
    SMPL_PARENTS,
    integrate_hands,
)
from pymafx_ros.model.rotations import (
    axis_angle_to_rotmat,
    forward_kinematics_rotations,
    mirror_hand_rotmat,
    rot6d_to_rotmat,
)

torch.set_num_threads(2)

# section -> prefix of its mesh_out arrays
SECTIONS = {"A": "A_m3_", "B": "B_m3_", "C": "C_out_", "D": "D_out_"}
INTERNALS = (
    "body_global_rotmat",
    "l_wrist_local_in",
    "r_wrist_local_in",
    "l_twist_axis",
    "r_twist_axis",
    "l_twist_angle_raw",
    "r_twist_angle_raw",
)


def _section_inputs(fixture, section: str) -> dict[str, torch.Tensor]:
    """integrate_hands keyword arguments of a fixture section, visibility gated as released."""
    prefix = SECTIONS[section]

    def get(name):
        return torch.from_numpy(fixture[name])

    if section == "A":
        scores = torch.stack([get("in_vis_lhand"), get("in_vis_rhand")], dim=1)
    elif section == "C":
        scores = torch.stack([get("C_in_vis_lhand"), get("C_in_vis_rhand")], dim=1)
    else:
        scores = get(f"{prefix}pred_vis_hands")  # predicted: [B, 2] (left, right)
    visible_lh, visible_rh = (scores > HAND_VISIBILITY_THRESHOLD).unbind(1)
    return {
        "body_rotmat": get(f"{prefix}rotmat_preintegr"),
        "tpose_joints": get(f"{section}_feat_integr_tpose_joints"),
        "orient_lh6d": get(f"{prefix}pred_orient_lh"),
        "orient_rh6d": get(f"{prefix}pred_orient_rh"),
        "visible_lh": visible_lh,
        "visible_rh": visible_rh,
    }


def _joint_positions(local_rotmat: torch.Tensor, tpose_joints: torch.Tensor) -> torch.Tensor:
    """Posed joint positions [B, 24, 3] of the SMPL chain (root at its rest position)."""
    global_rotmat = forward_kinematics_rotations(local_rotmat, SMPL_PARENTS)
    positions = [tpose_joints[:, 0]]
    for joint, parent in enumerate(SMPL_PARENTS[1:], start=1):
        bone = tpose_joints[:, joint] - tpose_joints[:, parent]
        positions.append(positions[parent] + (global_rotmat[:, parent] @ bone[..., None])[..., 0])
    return torch.stack(positions, dim=1)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_matches_release_output_and_internals(parity_fixture, section):
    rotmat, internals = integrate_hands(**_section_inputs(parity_fixture, section))
    expected = torch.from_numpy(parity_fixture[f"{SECTIONS[section]}rotmat"])
    torch.testing.assert_close(rotmat, expected, atol=1e-5, rtol=0)
    for name in INTERNALS:
        reference = torch.from_numpy(parity_fixture[f"{section}_feat_integr_{name}"])
        torch.testing.assert_close(internals[name], reference, atol=1e-5, rtol=0, msg=name)


@pytest.mark.parametrize(
    ("section", "visible"), [("A", (False, True)), ("B", (True, False)), ("C", (True, True))]
)
def test_visibility_gate_of_fixture(parity_fixture, section, visible):
    inputs = _section_inputs(parity_fixture, section)
    assert (inputs["visible_lh"].item(), inputs["visible_rh"].item()) == visible
    rotmat, _ = integrate_hands(**inputs)
    body = inputs["body_rotmat"]
    for is_visible, joints in zip(visible, ((18, 20), (19, 21)), strict=True):
        kept = torch.equal(rotmat[:, list(joints)], body[:, list(joints)])
        assert kept != is_visible, f"joints {joints}: visible={is_visible} but kept={kept}"
    untouched = [j for j in range(24) if j not in (18, 19, 20, 21)]
    assert torch.equal(rotmat[:, untouched], body[:, untouched])


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_compensation_fires_only_in_crafted_sections(parity_fixture, section):
    _, internals = integrate_hands(**_section_inputs(parity_fixture, section))
    left, right = (
        internals["l_twist_compensation"].item(),
        internals["r_twist_compensation"].item(),
    )
    if section in ("C", "D"):
        assert left > 0 > right  # both branches of the clamp
        assert left == pytest.approx(1.9337211 - 0.4 * math.pi, abs=1e-5)
    else:
        assert left == right == 0.0


def test_visible_hands_get_the_hand_experts_global_orientation(parity_fixture):
    inputs = _section_inputs(parity_fixture, "C")
    rotmat, _ = integrate_hands(**inputs)
    global_rotmat = forward_kinematics_rotations(rotmat, SMPL_PARENTS)
    target_l = mirror_hand_rotmat(rot6d_to_rotmat(inputs["orient_lh6d"]))
    target_r = rot6d_to_rotmat(inputs["orient_rh6d"])
    torch.testing.assert_close(global_rotmat[:, 20], target_l, atol=1e-5, rtol=0)
    torch.testing.assert_close(global_rotmat[:, 21], target_r, atol=1e-5, rtol=0)


def test_compensation_keeps_wrist_positions(parity_fixture):
    inputs = _section_inputs(parity_fixture, "C")
    inputs["tpose_joints"] = torch.from_numpy(parity_fixture["A_feat_integr_tpose_joints"])
    compensated, internals = integrate_hands(**inputs)
    plain, _ = integrate_hands(**inputs, twist_limit=4 * math.pi)
    assert internals["l_twist_compensation"].abs().item() > 0.1
    assert internals["r_twist_compensation"].abs().item() > 0.1
    # The elbows really turned, so equal wrist positions are not vacuous.
    assert (compensated[:, 18:20] - plain[:, 18:20]).abs().max() > 0.1
    tpose = inputs["tpose_joints"]
    positions_compensated = _joint_positions(compensated, tpose)
    positions_plain = _joint_positions(plain, tpose)
    torch.testing.assert_close(positions_compensated, positions_plain, atol=1e-6, rtol=0)


def test_samples_of_a_batch_are_independent(parity_fixture):
    one_c = _section_inputs(parity_fixture, "C")
    one_a = _section_inputs(parity_fixture, "A")
    batch = {name: torch.cat((one_c[name], one_a[name])) for name in one_c}
    rotmat, internals = integrate_hands(**batch)
    for row, single in enumerate((one_c, one_a)):
        single_rotmat, single_internals = integrate_hands(**single)
        torch.testing.assert_close(rotmat[row : row + 1], single_rotmat, atol=1e-6, rtol=0)
        for name, value in single_internals.items():
            torch.testing.assert_close(internals[name][row : row + 1], value, atol=1e-6, rtol=0)


def test_bad_inputs_are_named():
    body = axis_angle_to_rotmat(torch.zeros(2, 24, 3))
    good = {
        "body_rotmat": body,
        "tpose_joints": torch.zeros(2, 24, 3),
        "orient_lh6d": torch.zeros(2, 6),
        "orient_rh6d": torch.zeros(2, 6),
        "visible_lh": torch.ones(2, dtype=torch.bool),
        "visible_rh": torch.ones(2, dtype=torch.bool),
    }
    with pytest.raises(ValueError, match="tpose_joints"):
        integrate_hands(**{**good, "tpose_joints": torch.zeros(2, 22, 3)})
    with pytest.raises(ValueError, match="orient_rh6d"):
        integrate_hands(**{**good, "orient_rh6d": torch.zeros(1, 6)})
    with pytest.raises(TypeError, match="bool"):
        integrate_hands(**{**good, "visible_lh": torch.ones(2)})


def test_exports_with_a_free_batch_size(parity_fixture):
    class Integrate(torch.nn.Module):
        def forward(self, *args):
            return integrate_hands(*args)[0]

    single = _section_inputs(parity_fixture, "C")
    args = tuple(torch.cat((value, value)) for value in single.values())
    batch = torch.export.Dim("batch")
    program = torch.export.export(Integrate(), args, dynamic_shapes=(({0: batch},) * 6,))
    expected = torch.from_numpy(parity_fixture["C_out_rotmat"])
    result = program.module()(*(value for value in single.values()))
    torch.testing.assert_close(result, expected, atol=1e-5, rtol=0)
