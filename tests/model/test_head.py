"""Pieces of the feedback head against the fixture's intermediates (``A_feat_*``).

Each piece is fed the fixture's own inputs (encoder maps, previous ``mesh_out``), so a mismatch
points at that piece. Features are compared relative to their largest magnitude (README 8).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.model.point_features import aligned_features, grid_features
from pymafx_ros.model.projection import part_camera, project_points, sampling_grid
from pymafx_ros.model.regressor import HAND_STATE_NAMES, PERSON_STATE_NAMES, STATE_NAMES

RTOL = 1e-4


def _close(actual: torch.Tensor, expected: np.ndarray, rtol: float = RTOL) -> None:
    actual = actual.detach().numpy()
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() <= rtol * np.abs(expected).max()


def _t(fixture: dict[str, np.ndarray], key: str) -> torch.Tensor:
    return torch.from_numpy(fixture[key])


def _mesh(fixture: dict[str, np.ndarray], k: int) -> dict[str, torch.Tensor]:
    prefix = f"A_m{k}_"
    return {key[len(prefix) :]: _t(fixture, key) for key in fixture if key.startswith(prefix)}


def _grid(model, part: str, feature_map: torch.Tensor) -> torch.Tensor:
    return grid_features(part, model.maf_extractor[part][0], model.grid_points, feature_map)


def _hand_rows(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-person hand state -> hand rows [right; left] (the release's hand batch)."""
    return {
        name: torch.cat([state[right], state[left]])
        for name, (left, right) in HAND_STATE_NAMES.items()
    }


def test_grid_is_x_major(parity_fixture):
    grid = sampling_grid()
    assert grid.shape == (1, 2, 441)
    np.testing.assert_array_equal(
        grid.transpose(1, 2).numpy(), parity_fixture["A_feat_maf_body0_grid_points"]
    )
    assert grid[0, 0, 1] == -1.0 and grid[0, 1, 1] == -0.9  # y varies fastest


def test_projection_of_part_cameras():
    points = torch.tensor([[[0.1, -0.2, 0.3]]])
    cam = torch.tensor([[0.09, 0.5, -1.0]])
    scaled = part_camera(cam)
    torch.testing.assert_close(scaled, torch.tensor([[0.9, 0.05, -0.1]]))
    depth = 2 * 5000.0 / (224.0 * 0.9 + 1e-9) + 0.3
    expected = torch.tensor([[[(0.1 + 0.05) / depth, (-0.2 - 0.1) / depth]]]) * 5000.0 / 112.0
    torch.testing.assert_close(project_points(points, scaled), expected)


@pytest.mark.parametrize("part", ["body", "face"])
def test_grid_point_mlp(seeded_model, parity_fixture, part):
    with torch.inference_mode():
        flat = _grid(seeded_model, part, _t(parity_fixture, f"A_feat_enc_{part}_sfeat0"))
    _close(flat, parity_fixture[f"A_feat_reg0_in_{'x' if part == 'body' else 'xc_face'}"])


def test_hand_grid_point_mlp_batches_right_then_left(seeded_model, parity_fixture):
    with torch.inference_mode():
        flat = _grid(seeded_model, "hand", _t(parity_fixture, "A_feat_enc_hand_sfeat0"))
    _close(flat[:1], parity_fixture["A_feat_reg0_in_xc_rhand"])
    _close(flat[1:], parity_fixture["A_feat_reg0_in_xc_lhand"])


def test_loop_points_of_every_part(seeded_model, parity_fixture):
    mesh = _mesh(parity_fixture, 1)
    state = {name: mesh[f"pred_{name}"] for name in (*STATE_NAMES, "exp")}
    with torch.inference_mode():
        points = seeded_model.loop_points.people(state, seeded_model.regressor[0].init_rhand)
        hands = seeded_model.loop_points.hands(_hand_rows(state))
    for name, value in (
        ("body", points["body"]),
        ("rhand", hands[:1]),
        ("lhand", hands[1:]),
        ("face", points["face"]),
    ):
        _close(value, parity_fixture[f"A_feat_maf_{name}1_mesh_points"])


@pytest.mark.parametrize(("part", "t"), [("body", 1), ("body", 2), ("hand", 1), ("face", 1)])
def test_attention_and_fusion(seeded_model, parity_fixture, part, t):
    feature_map = _t(parity_fixture, f"A_feat_enc_{part}_sfeat{t}")
    names = ["rhand", "lhand"] if part == "hand" else [part]
    points = torch.cat([_t(parity_fixture, f"A_feat_maf_{n}{t}_mesh_points") for n in names])
    probe: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        modules = (
            seeded_model.align_attention[part][t - 1],
            seeded_model.maf_extractor[part][t],
            seeded_model.att_feat_reduce[part][t - 1],
        )
        fused = aligned_features(
            part, t, modules, seeded_model.grid_points, feature_map, points, probe
        )
    for index, name in enumerate(names):
        rows = slice(index, index + 1)
        for feature in ("grid_feat_chanmean", "mesh_feat_chanmean"):
            key = f"maf_{name}{t}_{feature}"
            _close(probe[key], parity_fixture[f"A_feat_{key}"])
        for stage in ("att", "fuse"):
            for suffix in ["out"] if stage == "att" else ["in", "out"]:
                key = f"{stage}_{name}{t - 1}_{suffix}"
                _close(probe[key], parity_fixture[f"A_feat_{key}"])
        _close(fused[rows], parity_fixture[f"A_feat_fuse_{name}{t - 1}_out"])


def test_regressor_update_from_the_fixture_inputs(seeded_model, parity_fixture):
    regressor = seeded_model.regressor[1]
    before, after = _mesh(parity_fixture, 1), _mesh(parity_fixture, 2)
    state = {name: before[f"pred_{name}"] for name in STATE_NAMES}
    hands = torch.cat(
        [
            _t(parity_fixture, "A_feat_reg1_in_xc_rhand"),
            _t(parity_fixture, "A_feat_reg1_in_xc_lhand"),
        ]
    )
    with torch.inference_mode():
        person, hand_rows, body_hidden, hand_hidden = regressor(
            _t(parity_fixture, "A_feat_reg1_in_x"),
            hands,
            _t(parity_fixture, "A_feat_reg1_in_xc_face"),
            {name: state[name] for name in PERSON_STATE_NAMES},
            _hand_rows(state),
        )
    assert body_hidden.shape == (1, 1024) and hand_hidden.shape == (2, 1024)
    for name in (*PERSON_STATE_NAMES, "exp"):
        torch.testing.assert_close(person[name], after[f"pred_{name}"], atol=1e-5, rtol=0)
    for name, (left, right) in HAND_STATE_NAMES.items():
        torch.testing.assert_close(hand_rows[name][:1], after[f"pred_{right}"], atol=1e-5, rtol=0)
        torch.testing.assert_close(hand_rows[name][1:], after[f"pred_{left}"], atol=1e-5, rtol=0)


def test_expression_restarts_from_init_each_step(seeded_model, parity_fixture):
    """The release never feeds the previous expression back (README section 9)."""
    regressor = seeded_model.regressor[2]
    state = {name: _t(parity_fixture, f"C_in_init_{name}") for name in STATE_NAMES}
    inputs = [_t(parity_fixture, f"C_in_{n}") for n in ("x", "xc_rhand", "xc_lhand", "xc_face")]
    hands = torch.cat(inputs[1:3])
    with torch.inference_mode():
        plain, *_ = regressor(inputs[0], hands, inputs[3], state, _hand_rows(state))
        with_exp, *_ = regressor(
            inputs[0],
            hands,
            inputs[3],
            {**state, "exp": state["face"].new_ones(1, 50)},
            _hand_rows(state),
        )
    torch.testing.assert_close(plain["exp"], with_exp["exp"], atol=0, rtol=0)


def test_init_state_starts_both_hands_from_the_right_mean(seeded_model, parity_fixture):
    regressor = seeded_model.regressor[0]
    state = regressor.init_state(2)
    hands = regressor.init_hand_state(3)
    assert state["pose"].shape == (2, 144) and hands["hand"].shape == (3, 90)
    torch.testing.assert_close(
        hands["hand"][:1], _t(parity_fixture, "A_m0_pred_lhand"), atol=0, rtol=0
    )
    torch.testing.assert_close(
        hands["hand"][:1], _t(parity_fixture, "A_m0_pred_rhand"), atol=0, rtol=0
    )


def test_bad_inputs_are_refused_before_any_work(seeded_model):
    crop = torch.zeros(1, 3, 224, 224)
    with pytest.raises(ValueError, match="one shape"):
        seeded_model.predict(crop, torch.zeros(2, 3, 224, 224), crop, crop)
    with pytest.raises(ValueError, match="both vis_lhand and vis_rhand"):
        seeded_model.regressor_step(
            2, *(torch.zeros(1, n) for n in (2048, 1024, 1024, 1024)), {}, torch.ones(1)
        )
