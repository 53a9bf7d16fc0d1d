"""The static kinematic chain equals smplx's batch_rigid_transform and exports."""

from __future__ import annotations

import pytest
import torch
from smplx.lbs import batch_rigid_transform

from pymafx_ros.body_models.kinematic_chain import KinematicChain, joint_levels
from pymafx_ros.model.rotations import rot6d_to_rotmat


def _random_pose(generator: torch.Generator, batch: int, joints: int):
    rotations = rot6d_to_rotmat(torch.randn(batch, joints, 6, generator=generator))
    rest = torch.randn(batch, joints, 3, generator=generator) * 0.3
    return rotations, rest


@pytest.mark.parametrize("name", ["smplx", "mano", "flame"])
def test_equals_smplx_rigid_transform_on_random_poses(family, name):
    parents = getattr(family, f"{name}_layer").parents
    chain = KinematicChain(parents.tolist())
    generator = torch.Generator().manual_seed(len(parents))
    rotations, rest = _random_pose(generator, 4, len(parents))
    expected_joints, expected = batch_rigid_transform(rotations, rest, parents)
    global_r, posed, skin_t = chain(rotations, rest)
    torch.testing.assert_close(posed, expected_joints, atol=1e-5, rtol=0)
    torch.testing.assert_close(global_r, expected[..., :3, :3], atol=1e-5, rtol=0)
    torch.testing.assert_close(skin_t, expected[..., :3, 3], atol=1e-5, rtol=0)


def test_levels_group_joints_by_depth(family):
    levels = joint_levels(family.smplx_layer.parents.tolist())
    assert levels[0] == [0]
    assert levels[1] == [1, 2, 3]  # hips and spine1 hang off the pelvis
    assert sum(len(level) for level in levels) == 55
    parents = family.smplx_layer.parents.tolist()
    depth = {j: k for k, level in enumerate(levels) for j in level}
    assert all(depth[j] == depth[parents[j]] + 1 for j in range(1, 55))


def test_exports_with_a_free_batch(family):
    chain = KinematicChain(family.smplx_layer.parents.tolist())
    generator = torch.Generator().manual_seed(0)
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(
        chain, _random_pose(generator, 2, 55), dynamic_shapes=({0: batch}, {0: batch})
    )
    rotations, rest = _random_pose(generator, 5, 55)
    for got, want in zip(program.module()(rotations, rest), chain(rotations, rest), strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize(
    ("parents", "message"),
    [([0, 0], "joint 0 must be the root"), ([-1, 2, 0], "must come before it"), ([], "root")],
)
def test_bad_trees_are_refused(parents, message):
    with pytest.raises(ValueError, match=message):
        KinematicChain(parents)


def test_wrong_pose_shape_is_named():
    chain = KinematicChain([-1, 0, 1])
    with pytest.raises(ValueError, match=r"expected rotmats \[B,3,3,3\]"):
        chain(torch.zeros(1, 4, 3, 3), torch.zeros(1, 4, 3))
