"""``LoopPoints``: sampled-vertex skinning in the loop equals the release's full decode, and
``predict`` applies the expression in its final SMPL-X on request."""

from __future__ import annotations

import torch

from pymafx_ros.model.mesh_decoding import decode, smplx_pose
from pymafx_ros.model.projection import part_camera, project_points
from pymafx_ros.model.regressor import HAND_STATE_NAMES


def _perturbed_state(model, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The regressor's mean state for 2 people (hands included), moved by noise so that every
    joint is posed."""
    regressor = model.regressor[0]
    state = regressor.init_state(2)
    hands = regressor.init_hand_state(2)
    for name, (left, right) in HAND_STATE_NAMES.items():
        state[left] = state[right] = hands[name]
    return {k: v + 0.2 * torch.randn(v.shape, generator=generator) for k, v in state.items()}


def _release_points(model, params, mean_hand) -> dict[str, torch.Tensor]:
    """The release's way: decode every mesh, down-sample with the dense maps, project."""
    mesh = decode(model.body_models, params, mean_hand)
    hand_verts = torch.cat([mesh["verts_rh_mano"], mesh["verts_lh_mano"]])
    hand_cam = part_camera(torch.cat([mesh["pred_cam_rh"], mesh["pred_cam_lh"]]))
    face = mesh["verts_fa_flame"][:, model.flame_sampler.sampling_idx]
    return {
        "body": project_points(model.mesh_sampler.Dmap @ mesh["verts"], mesh["pred_cam"]),
        "hand": project_points(model.mano_sampler.Dmap @ hand_verts, hand_cam),
        "face": project_points(face, part_camera(mesh["pred_cam_fa"])),
    }


def _loop_points(model, params, mean_hand) -> dict[str, torch.Tensor]:
    hand_rows = {
        name: torch.cat([params[right], params[left]])
        for name, (left, right) in HAND_STATE_NAMES.items()
    }
    points = model.loop_points.people(params, mean_hand)
    points["hand"] = model.loop_points.hands(hand_rows)
    return points


def test_loop_points_equal_the_decoded_mesh_points(seeded_model):
    params = _perturbed_state(seeded_model, torch.Generator().manual_seed(5))
    mean_hand = seeded_model.regressor[1].init_rhand
    with torch.inference_mode():
        expected = _release_points(seeded_model, params, mean_hand)
        actual = _loop_points(seeded_model, params, mean_hand)
    assert actual.keys() == expected.keys()
    for part, points in expected.items():
        assert actual[part].shape == points.shape
        torch.testing.assert_close(actual[part], points, atol=5e-6, rtol=0, msg=part)


def test_loop_points_follow_the_loaded_sampler(seeded_model):
    original = {k: v.clone() for k, v in seeded_model.state_dict().items()}
    changed = dict(original)
    changed["mesh_sampler.Dmap"] = torch.roll(original["mesh_sampler.Dmap"], 1, dims=0)
    params = _perturbed_state(seeded_model, torch.Generator().manual_seed(6))
    mean_hand = seeded_model.regressor[1].init_rhand
    try:
        seeded_model.load_state_dict(changed)
        with torch.inference_mode():
            rolled = _loop_points(seeded_model, params, mean_hand)["body"]
            expected = _release_points(seeded_model, params, mean_hand)["body"]
    finally:
        seeded_model.load_state_dict(original)
    torch.testing.assert_close(rolled, expected, atol=5e-6, rtol=0)
    with torch.inference_mode():
        restored = _loop_points(seeded_model, params, mean_hand)["body"]
    torch.testing.assert_close(torch.roll(restored, 1, dims=1), rolled, atol=5e-6, rtol=0)


def test_predict_can_apply_the_expression_to_smplx(seeded_model):
    generator = torch.Generator().manual_seed(2)
    images = [torch.randn(1, 3, 224, 224, generator=generator) for _ in range(4)]
    with torch.inference_mode():
        plain = seeded_model.predict(*images)
        expressive = seeded_model.predict(*images, profile="mesh")
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
