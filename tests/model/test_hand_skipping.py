"""No wasted expert: hands at or below the visibility gate skip the hand expert, with the same
results as running every hand; the SMPL-X mesh is computed only when asked for."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.model.hand_rows import all_hands_rows, per_person, select_hands
from pymafx_ros.model.mesh_decoding import PIPELINE_OUTPUTS
from pymafx_ros.model.rotations import mirror_hand_rotmat

# Per person (left, right): one hidden left, one hidden right, both hidden (0.1 is hidden).
VISIBILITY = torch.tensor([[0.05, 0.8], [0.8, 0.0], [0.0, 0.1]])
COMPARED = [name for name in PIPELINE_OUTPUTS if name != "hand_visibility"]


def _crops(batch: int, seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, 224, 224, generator=generator) for _ in range(4)]


@pytest.fixture(scope="module")
def runs(seeded_model):
    """predict on 3 people, hidden hands skipped and run, with the hand expert's batch sizes."""
    crops = _crops(3, seed=4)
    vis = {"vis_lhand": VISIBILITY[:, 0], "vis_rhand": VISIBILITY[:, 1]}
    batches: list[int] = []
    hook = seeded_model.encoders["hand"].register_forward_hook(
        lambda _m, inputs, _out: batches.append(inputs[0].shape[0])
    )
    try:
        with torch.inference_mode():
            skipped = seeded_model.predict(*crops, **vis, profile="mesh")
            everything = seeded_model.predict(*crops, **vis, profile="mesh", run_hidden_hands=True)
    finally:
        hook.remove()
    return skipped, everything, batches


def test_hidden_hands_skip_the_hand_expert(runs):
    _, _, batches = runs
    assert batches == [2, 6]  # 2 visible hands of 6, then all of them


def test_skipping_gives_the_same_results_as_running_every_hand(runs):
    skipped, everything, _ = runs
    for name in (*COMPARED, "smplx_verts", "pred_vis_hands"):
        # Only the batch size of the hand expert differs: float rounding of its kernels.
        torch.testing.assert_close(skipped[name], everything[name], atol=1e-5, rtol=0, msg=name)


def test_zero_visible_hands(seeded_model):
    crops = _crops(1, seed=5)
    vis = {"vis_lhand": torch.tensor([0.1]), "vis_rhand": torch.tensor([-1.0])}
    with torch.inference_mode():
        none_run = seeded_model.predict(*crops, **vis, profile="joints")
        all_run = seeded_model.predict(*crops, **vis, profile="joints", run_hidden_hands=True)
    assert set(none_run) == {*COMPARED, "pred_vis_hands"}
    for name in COMPARED:
        torch.testing.assert_close(none_run[name], all_run[name], atol=1e-5, rtol=0, msg=name)
    # Both hands fall back to the mean right hand (the left one mirrored).
    left_unmirrored = mirror_hand_rotmat(none_run["pred_lhand_rotmat"])
    torch.testing.assert_close(left_unmirrored, none_run["pred_rhand_rotmat"])


def test_joints_alone_equal_the_joints_of_the_full_outputs(seeded_model, runs):
    skipped, _, _ = runs
    crops = _crops(3, seed=4)
    vis = {"vis_lhand": VISIBILITY[:, 0], "vis_rhand": VISIBILITY[:, 1]}
    with torch.inference_mode():
        joints = seeded_model.predict(*crops, **vis, profile="joints")
    assert "smplx_verts" not in joints and "smplx_verts" in skipped
    for name in COMPARED:
        torch.testing.assert_close(joints[name], skipped[name], atol=1e-6, rtol=0, msg=name)


def test_hand_rows_layout():
    left = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 3, 2, 2)
    right = left + 10
    run = torch.tensor([[False, True], [True, False], [True, True]])
    hands = select_hands(left, right, run)
    # Right crops (people 0 and 2), then the mirrored left crops (people 1 and 2).
    assert hands.images[:, 0, 0, 0].tolist() == [10.0, 12.0, 1.0, 2.0]
    assert hands.rows.tolist() == [[4, 0], [2, 4], [3, 1]]
    values = torch.tensor([[10.0], [12.0], [1.0], [2.0]])
    got_left, got_right = per_person(values, torch.tensor([[-1.0]]), hands.rows)
    assert got_left.flatten().tolist() == [-1.0, 1.0, 2.0]
    assert got_right.flatten().tolist() == [10.0, -1.0, 12.0]
    assert all_hands_rows(2).tolist() == [[2, 0], [3, 1]]
    with pytest.raises(ValueError, match=r"bool tensor \[B, 2\]"):
        select_hands(left, right, run.float())
