"""Our exportable SMPL-X / FLAME / MANO forward equals smplx's, with or without the mesh."""

from __future__ import annotations

import math

import torch

from pymafx_ros.body_models.skinned_body import SkinnedBody, contour_bin
from pymafx_ros.model.rotations import axis_angle_to_rotmat, rot6d_to_rotmat


def _smplx_call(layer, shape, pose):
    betas, expression = shape[:, :10], shape[:, 10:]
    return layer(
        betas=betas,
        expression=expression,
        global_orient=pose[:, :1],
        body_pose=pose[:, 1:22],
        jaw_pose=pose[:, 22:23],
        leye_pose=pose[:, 23:24],
        reye_pose=pose[:, 24:25],
        left_hand_pose=pose[:, 25:40],
        right_hand_pose=pose[:, 40:55],
    )


def _head_turns(batch: int) -> torch.Tensor:
    """Neck yaws from -60 to +60 degrees: every side of the contour table, clamps included."""
    yaw = torch.linspace(-math.radians(60), math.radians(60), batch)
    zeros = torch.zeros_like(yaw)
    return axis_angle_to_rotmat(torch.stack([zeros, yaw, zeros], 1))


def test_smplx_joints_with_and_without_the_mesh_equal_smplx(family):
    layer = family.smplx_layer
    generator = torch.Generator().manual_seed(5)
    batch = 9
    shape = torch.randn(batch, 60, generator=generator)
    pose = rot6d_to_rotmat(
        torch.randn(batch, 55, 6, generator=generator) * 0.1
        + torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    )
    pose[:, 12] = _head_turns(batch)  # the neck: contour landmarks of many bins
    with torch.inference_mode():
        expected = _smplx_call(layer, shape, pose)
        mesh = SkinnedBody(layer, with_mesh=True)(shape, pose)
        joints_only = SkinnedBody(layer, with_mesh=False)
        sparse = joints_only(shape, pose)
    assert sparse.keys() == {"joints", "contour_yaw_deg"}
    assert joints_only.skin.num_vertices < 3000  # only what the joints read
    torch.testing.assert_close(mesh["vertices"], expected.vertices, atol=2e-5, rtol=0)
    torch.testing.assert_close(mesh["joints"], expected.joints, atol=2e-5, rtol=0)
    torch.testing.assert_close(sparse["joints"], expected.joints, atol=2e-5, rtol=0)
    bins = contour_bin(sparse["contour_yaw_deg"])
    assert {39, 78} <= set(bins.tolist())  # both clamped ends
    assert len(set(bins.tolist())) >= 7  # and bins in between


def test_flame_and_mano_equal_smplx(family):
    generator = torch.Generator().manual_seed(6)
    flame = family.flame_layer
    shape = torch.randn(3, 150, generator=generator)
    pose = rot6d_to_rotmat(torch.randn(3, 5, 6, generator=generator))
    with torch.inference_mode():
        expected = flame(
            betas=shape[:, :100],
            expression=shape[:, 100:],
            global_orient=pose[:, :1],
            neck_pose=pose[:, 1:2],
            jaw_pose=pose[:, 2:3],
            leye_pose=pose[:, 3:4],
            reye_pose=pose[:, 4:5],
        )
        ours = SkinnedBody(flame, with_mesh=True)(shape, pose)
    torch.testing.assert_close(ours["vertices"], expected.vertices, atol=2e-5, rtol=0)
    torch.testing.assert_close(ours["joints"], expected.joints, atol=2e-5, rtol=0)

    mano = family.mano_layer
    betas = torch.randn(3, 10, generator=generator)
    pose = rot6d_to_rotmat(torch.randn(3, 16, 6, generator=generator))
    with torch.inference_mode():
        expected = mano(betas=betas, global_orient=pose[:, :1], hand_pose=pose[:, 1:])
        ours = SkinnedBody(mano, with_mesh=True, vertex_joints=False)(betas, pose)
    torch.testing.assert_close(ours["vertices"], expected.vertices, atol=2e-5, rtol=0)
    torch.testing.assert_close(ours["joints"], expected.joints, atol=2e-5, rtol=0)


def test_contour_bin_follows_smplx_rule():
    yaw = torch.tensor([0.0, 0.49, 0.51, 38.6, 39.0, 55.0, -0.4, -0.6, -1.0, -39.0, -39.6, -80.0])
    assert contour_bin(yaw).tolist() == [0, 0, 1, 39, 39, 39, 0, 40, 40, 78, 78, 78]


def _gathered_landmarks(vertices, index, bary):
    """The landmarks as they were computed before (a batch-expanded gather): the reference the
    TensorRT-friendly formulation must equal bit for bit."""
    if index.dim() == 2:
        index = index.expand(vertices.shape[0], -1, -1)
        bary = bary.expand(vertices.shape[0], -1, -1)
    flat = index.flatten(1)
    corners = torch.gather(vertices, 1, flat.unsqueeze(-1).expand(-1, -1, 3))
    return (corners.unflatten(1, (-1, 3)) * bary.unsqueeze(-1)).sum(dim=2)


def test_landmarks_equal_the_gather_bit_for_bit_and_export_without_gather(family):
    """Torch-TensorRT's gather converter has no dynamic-batch support (a graph break in every
    head): the landmarks are read with index_select and a one-hot bin pick instead, which
    must give the very same floats and leave no gather in the exported graph."""
    body = SkinnedBody(family.smplx_layer, with_mesh=False)
    generator = torch.Generator().manual_seed(11)
    batch = 9
    shape = torch.randn(batch, 60, generator=generator)
    pose = rot6d_to_rotmat(
        torch.randn(batch, 55, 6, generator=generator) * 0.1
        + torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    )
    pose[:, 12] = _head_turns(batch)
    with torch.inference_mode():
        out = body(shape, pose)
        vertices, _ = body.skin(shape, pose)
        row = contour_bin(out["contour_yaw_deg"])
        expected = torch.cat(
            [
                _gathered_landmarks(vertices, body.static_index, body.static_bary),
                _gathered_landmarks(vertices, body.contour_index[row], body.contour_bary[row]),
            ],
            dim=1,
        )
    count = expected.shape[1]
    assert torch.equal(out["joints"][:, -count:], expected)
    people = torch.export.Dim("people", min=1, max=64)
    program = torch.export.export(body, (shape, pose), dynamic_shapes=({0: people}, {0: people}))
    operators = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert "aten.gather.default" not in operators
    assert "aten.index_select.default" in operators
