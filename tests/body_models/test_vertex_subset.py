"""Skinning a vertex subset (or every vertex) equals the full smplx layer at those vertices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.body_models.vertex_subset import SkinnedVertexSubset, shape_directions
from pymafx_ros.model.rotations import rot6d_to_rotmat


def _random_rotations(generator: torch.Generator, batch: int, joints: int) -> torch.Tensor:
    return rot6d_to_rotmat(torch.randn(batch, joints, 6, generator=generator))


def _layer_call(name: str, layer, shape: torch.Tensor, pose: torch.Tensor):
    """The full layer's output for stacked shape components and a full pose [B,J,3,3]."""
    betas = shape[:, : layer.shapedirs.shape[-1]]
    if name == "mano":
        return layer(betas=betas, global_orient=pose[:, :1], hand_pose=pose[:, 1:])
    expression = shape[:, layer.shapedirs.shape[-1] :]
    if name == "flame":
        return layer(
            betas=betas,
            expression=expression,
            global_orient=pose[:, :1],
            neck_pose=pose[:, 1:2],
            jaw_pose=pose[:, 2:3],
            leye_pose=pose[:, 3:4],
            reye_pose=pose[:, 4:5],
        )
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


@pytest.mark.parametrize("name", ["smplx", "mano", "flame"])
def test_subset_matches_the_full_layer(family, name):
    layer = getattr(family, f"{name}_layer")
    generator = torch.Generator().manual_seed(7)
    num_vertices = layer.v_template.shape[0]
    indices = np.sort(np.random.default_rng(3).choice(num_vertices, 150, replace=False))
    subset = SkinnedVertexSubset(layer, indices)
    shape = torch.randn(3, subset.num_shape_components, generator=generator)
    pose = _random_rotations(generator, 3, layer.parents.shape[0])
    with torch.inference_mode():
        expected = _layer_call(name, layer, shape, pose)
        actual, joints = subset(shape, pose)
    assert actual.shape == (3, 150, 3)
    assert shape_directions(layer).shape[-1] == subset.num_shape_components
    torch.testing.assert_close(actual, expected.vertices[:, indices], atol=2e-5, rtol=0)
    num_joints = layer.parents.shape[0]
    torch.testing.assert_close(joints, expected.joints[:, :num_joints], atol=2e-5, rtol=0)


@pytest.mark.parametrize("name", ["smplx", "mano", "flame"])
def test_every_vertex_when_no_subset_is_given(family, name):
    layer = getattr(family, f"{name}_layer")
    generator = torch.Generator().manual_seed(11)
    full = SkinnedVertexSubset(layer)
    shape = torch.randn(2, full.num_shape_components, generator=generator)
    pose = _random_rotations(generator, 2, layer.parents.shape[0])
    with torch.inference_mode():
        expected = _layer_call(name, layer, shape, pose).vertices
        actual, _ = full(shape, pose)
    assert full.num_vertices == layer.v_template.shape[0]
    torch.testing.assert_close(actual, expected, atol=2e-5, rtol=0)


@pytest.mark.parametrize(
    ("indices", "message"),
    [(np.array([], dtype=np.int64), "non-empty"), (np.array([0, 10**6]), "out of range")],
)
def test_bad_indices_are_refused(family, indices, message):
    with pytest.raises(ValueError, match=message):
        SkinnedVertexSubset(family.mano_layer, indices)
