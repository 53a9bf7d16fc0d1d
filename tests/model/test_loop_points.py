"""``predict``'s shortcuts: sampled-vertex skinning in the loop, expression in the final SMPL-X."""

from __future__ import annotations

import torch

from pymafx_ros.model.mesh_decoding import smplx_pose


def _perturbed_state(model, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The regressor's mean state, batch 2, moved by noise so that every joint is posed."""
    features = torch.zeros(2, 192, 14, 14)
    state = model.regressor[0].init_state(features)
    return {k: v + 0.2 * torch.randn(v.shape, generator=generator) for k, v in state.items()}


def test_loop_points_equal_the_decoded_mesh_points(seeded_model):
    params = _perturbed_state(seeded_model, torch.Generator().manual_seed(5))
    mean_hand = seeded_model.regressor[1].init_rhand
    with torch.inference_mode():
        expected = seeded_model.mesh_points(seeded_model.decode(params, mean_hand))
        actual = seeded_model.loop_points(params, mean_hand)
    assert actual.keys() == expected.keys()
    for part, points in expected.items():
        assert actual[part].shape == points.shape
        torch.testing.assert_close(actual[part], points, atol=2e-6, rtol=0, msg=part)


def test_loop_points_follow_the_loaded_sampler(seeded_model):
    original = {k: v.clone() for k, v in seeded_model.state_dict().items()}
    changed = dict(original)
    changed["mesh_sampler.Dmap"] = torch.roll(original["mesh_sampler.Dmap"], 1, dims=0)
    params = _perturbed_state(seeded_model, torch.Generator().manual_seed(6))
    mean_hand = seeded_model.regressor[1].init_rhand
    try:
        seeded_model.load_state_dict(changed)
        with torch.inference_mode():
            rolled = seeded_model.loop_points(params, mean_hand)["body"]
            expected = seeded_model.mesh_points(seeded_model.decode(params, mean_hand))["body"]
    finally:
        seeded_model.load_state_dict(original)
    torch.testing.assert_close(rolled, expected, atol=2e-6, rtol=0)
    with torch.inference_mode():
        restored = seeded_model.loop_points(params, mean_hand)["body"]
    torch.testing.assert_close(torch.roll(restored, 1, dims=1), rolled, atol=2e-6, rtol=0)


def test_predict_can_apply_the_expression_to_smplx(seeded_model):
    generator = torch.Generator().manual_seed(2)
    images = [torch.randn(1, 3, 224, 224, generator=generator) for _ in range(4)]
    with torch.inference_mode():
        plain = seeded_model.predict(*images)
        expressive = seeded_model.predict(*images, smplx_expression=True)
        pose = smplx_pose(
            expressive["pred_shape"],
            expressive["rotmat"],
            expressive["pred_face_rotmat"],
            expressive["pred_lhand_rotmat"],
            expressive["pred_rhand_rotmat"],
            expressive["pred_exp"],
        )
        reference = seeded_model.body_models.smplx_layer(**pose)
    torch.testing.assert_close(expressive["smplx_verts"], reference.vertices)
    torch.testing.assert_close(expressive["smplx_joints"], reference.joints)
    assert (expressive["smplx_verts"] - plain["smplx_verts"]).abs().max() > 1e-5
    torch.testing.assert_close(expressive["rotmat"], plain["rotmat"])
