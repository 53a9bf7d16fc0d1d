"""Leaving the face expert (and the hand expert) out in eager PyTorch: the skipped encoder is
never called, the face is the release's neutral one, the hands are what the full model gives,
and the body moves only by the face's one coupling (the jaw and eyes posing the SMPL-X mesh the
body branch samples; see ``model.face_expert``)."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.model.hand_rows import all_hands_rows

VIS = {"vis_lhand": torch.tensor([0.8, 0.05]), "vis_rhand": torch.tensor([0.8, 0.9])}
HAND_OUTPUTS = ("pred_lhand_rotmat", "pred_rhand_rotmat", "pred_vis_hands")


def _crops(seed: int = 4) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 3, 224, 224, generator=generator) for _ in range(4)]


def _counting(model, part: str, calls: list[int]):
    return model.encoders[part].register_forward_hook(
        lambda _m, inputs, _out: calls.append(inputs[0].shape[0])
    )


@pytest.fixture(scope="module")
def runs(seeded_model):
    """(all experts, face left out, face encoder batch sizes seen while leaving it out)."""
    crops = _crops()
    calls: list[int] = []
    with torch.inference_mode():
        full = seeded_model.predict(*crops, **VIS, profile="mesh")
        hook = _counting(seeded_model, "face", calls)
        try:
            skipped = seeded_model.predict(*crops[:3], None, **VIS, profile="mesh")
        finally:
            hook.remove()
    return full, skipped, calls


def test_the_face_encoder_is_not_run(runs):
    _, _, calls = runs
    assert calls == []


def test_the_face_is_the_release_neutral_one(runs):
    full, skipped, _ = runs
    assert torch.equal(skipped["pred_exp"], torch.zeros(2, 50))
    assert torch.equal(skipped["pred_face_rotmat"], torch.eye(3).expand(2, 3, 3, 3))
    # The full model predicts a face (otherwise this test would show nothing).
    assert full["pred_exp"].abs().max() > 1e-3


def test_the_hands_equal_the_full_model(runs):
    full, skipped, _ = runs
    for name in HAND_OUTPUTS:
        torch.testing.assert_close(skipped[name], full[name], atol=1e-5, rtol=0, msg=name)


def test_the_body_moves_only_by_the_jaw_coupling(runs):
    full, skipped, _ = runs
    # Measured on the seeded stand-in: rotations 2e-4, body joints 0.15 mm. The bounds are
    # an order above, far below what a wrong face state (or face maps reaching the body) does.
    for name in ("rotmat", "pred_cam", "pred_shape"):
        torch.testing.assert_close(skipped[name], full[name], atol=2e-3, rtol=0, msg=name)
    kinematic = (skipped["smplx_joints"] - full["smplx_joints"])[:, :55].norm(dim=-1)
    assert kinematic.max() < 2e-3  # metres


def test_zero_face_maps_reach_nothing(seeded_model, runs):
    """The face branch still runs in the head, on zero maps; held at the initial state, real
    face maps in their place give the same results."""
    _, skipped, _ = runs
    crops = _crops()
    rows = all_hands_rows(2)
    vis = torch.stack([VIS["vis_lhand"], VIS["vis_rhand"]], dim=1)
    with torch.inference_mode():
        hands = torch.cat([crops[2], torch.flip(crops[1], [3])])
        pyramids = seeded_model.encode(crops[0], hands, crops[3])
        held = seeded_model.refine(
            pyramids, rows, vis, torch.tensor(False), "mesh", run_face=torch.zeros(2, dtype=bool)
        )[-1]
    for name in ("rotmat", "pred_cam", "smplx_joints", "smplx_verts", "pred_exp", *HAND_OUTPUTS):
        want = skipped[name]
        if name == "pred_vis_hands":  # the release's [left block; right block] layout
            got = held["hand_visibility"].transpose(0, 1).flatten()
        else:
            got = held[name]
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0, msg=name)


def test_body_only_runs_no_hand_and_no_face(seeded_model):
    crops = _crops(seed=6)
    calls = {"hand": [], "face": []}
    with torch.inference_mode():
        hooks = [_counting(seeded_model, part, calls[part]) for part in calls]
        try:
            body = seeded_model.predict(crops[0], None, None, None, profile="joints")
        finally:
            for hook in hooks:
                hook.remove()
        hidden = {"vis_lhand": torch.zeros(2), "vis_rhand": torch.zeros(2)}
        no_face = seeded_model.predict(*crops[:3], None, **hidden, profile="joints")
    assert calls["face"] == [] and sum(calls["hand"]) == 0  # no hand crop reaches the expert
    assert torch.equal(body["pred_vis_hands"], torch.zeros(4))
    # Exactly what hidden hands give: the mean hand pose and the body's own arms.
    for name in ("rotmat", "pred_lhand_rotmat", "pred_rhand_rotmat", "smplx_joints", "pred_exp"):
        torch.testing.assert_close(body[name], no_face[name], atol=1e-6, rtol=0, msg=name)


def test_one_hand_batch_without_the_other_is_refused(seeded_model):
    crops = _crops()
    with pytest.raises(ValueError, match="both hand crop batches or neither"):
        seeded_model.predict(crops[0], crops[1], None, crops[3])
