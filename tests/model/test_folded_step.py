"""Folded refinement steps (fusion + regressor as one affine map per part) equal the layers
they replace, at every iteration, for any number of people and hand rows (none included)."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.backends.export.programs import example_head_inputs
from pymafx_ros.model.folded_step import fold_steps
from pymafx_ros.model.pymafx_net import NUM_ITERATIONS

ITERATION_FEATURES = {0: (2205, 2205, 2205), 1: (4360, 3180, 5745), 2: (4360, 3180, 5745)}


@pytest.fixture(scope="module")
def steps(seeded_model):
    return fold_steps(seeded_model.regressor, seeded_model.att_feat_reduce, torch.device("cpu"))


def _close(got: torch.Tensor, want: torch.Tensor, name: str) -> None:
    scale = max(want.abs().amax().item() if want.numel() else 0.0, 1.0)
    torch.testing.assert_close(got, want, atol=2e-6 * scale, rtol=0, msg=name)


@pytest.mark.parametrize("t", range(NUM_ITERATIONS))
@pytest.mark.parametrize(("people", "hand_rows"), [(1, 2), (3, 0), (2, 4)])
def test_step_equals_fusion_and_regressor(seeded_model, steps, t, people, hand_rows):
    generator = torch.Generator().manual_seed(10 * t + people + hand_rows)
    regressor = seeded_model.regressor[t]

    def jitter(state, rows):
        return {
            name: value.expand(rows, -1)
            + 0.1 * torch.randn(rows, value.shape[1], generator=generator)
            for name, value in state.items()
        }

    state = jitter(regressor.init_state(1), people)
    hand_state = jitter(regressor.init_hand_state(1), hand_rows)
    widths = dict(zip(("body", "hand", "face"), ITERATION_FEATURES[t], strict=True))
    rows = {"body": people, "hand": hand_rows, "face": people}
    features = {part: torch.randn(rows[part], widths[part], generator=generator) for part in rows}
    with torch.no_grad():
        fused = features
        if t > 0:
            fused = {p: seeded_model.att_feat_reduce[p][t - 1](x) for p, x in features.items()}
        want = regressor(fused["body"], fused["hand"], fused["face"], state, hand_state)
        got = steps[t](features, state, hand_state)
    for got_state, want_state in ((got[0], want[0]), (got[1], want[1])):
        assert set(got_state) == set(want_state)
        for name, value in want_state.items():
            _close(got_state[name], value, f"t={t} {name}")
    if t == NUM_ITERATIONS - 1:
        _close(got[2], want[2], "body hidden")
        _close(got[3], want[3], "hand hidden")
    else:
        assert got[2] is None and got[3] is None


def test_refine_with_steps_equals_refine_with_layers(seeded_model, steps):
    inputs = example_head_inputs(2, 3)
    maps, (hand_rows, vis_hands, _, _) = inputs[:9], inputs[9:]
    pyramids = {
        part: list(maps[3 * i : 3 * i + 3]) for i, part in enumerate(("body", "hand", "face"))
    }
    for predict in (torch.tensor(False), torch.tensor(True)):
        with torch.no_grad():
            want = seeded_model.refine(pyramids, hand_rows, vis_hands, predict, "joints")[-1]
            got = seeded_model.refine(
                pyramids, hand_rows, vis_hands, predict, "joints", steps=steps
            )[-1]
        assert set(got) == set(want)
        for name, value in want.items():
            torch.testing.assert_close(got[name], value, atol=1e-5, rtol=0, msg=name)


def test_steps_hold_a_fraction_of_the_layers_weights(seeded_model, steps):
    layers = list(seeded_model.regressor.parameters()) + list(
        seeded_model.att_feat_reduce.parameters()
    )
    folded = sum(buffer.numel() for buffer in steps.buffers())
    assert folded < sum(p.numel() for p in layers) / 4
