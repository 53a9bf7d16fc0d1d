"""Published axis-angle + transl reproduce the joints through ``smplx.SMPLX``; global rotations."""

from __future__ import annotations

import numpy as np
import torch
from smplx_doubles import placeholder_smplx, placeholder_smplx_layer

from pymafx_ros.geometry.skeleton import SMPLX_JOINT_NAMES, SMPLX_PARENTS
from pymafx_ros.model.rotations import axis_angle_to_rotmat
from pymafx_ros.pipeline.kinematics import local_rotations, rotmat_to_axis_angle, smplx_pose

BATCH = 3


def _random_rotations(generator: torch.Generator, count: int, max_angle: float) -> torch.Tensor:
    axis_angle = (torch.rand(BATCH, count, 3, generator=generator) * 2 - 1) * max_angle
    return axis_angle_to_rotmat(axis_angle)


def test_skeleton_matches_the_model_file(smplx_file) -> None:
    kintree = np.load(smplx_file)["kintree_table"][0].astype(np.int64)
    kintree[0] = -1  # stored as uint32 max
    assert tuple(kintree.tolist()) == SMPLX_PARENTS
    assert len(SMPLX_JOINT_NAMES) == 55 and SMPLX_JOINT_NAMES[22] == "jaw"


def test_axis_angle_round_trip_near_zero_and_pi() -> None:
    angles = torch.tensor([0.0, 1e-9, 1e-4, 1.0, np.pi - 1e-6, np.pi], dtype=torch.float64)
    axis = torch.nn.functional.normalize(
        torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64), dim=0
    )
    rotmat = axis_angle_to_rotmat(angles[:, None] * axis).numpy()
    back = axis_angle_to_rotmat(torch.from_numpy(rotmat_to_axis_angle(rotmat))).numpy()
    np.testing.assert_allclose(back, rotmat, atol=1e-7)


def test_published_parameters_reproduce_the_model_joints() -> None:
    """What the model computes (rotation matrices into SMPLXLayer) == smplx.SMPLX(axis-angle)."""
    generator = torch.Generator().manual_seed(0)
    body = _random_rotations(generator, 24, 0.8)
    face = _random_rotations(generator, 3, 0.3)
    left = _random_rotations(generator, 15, 0.6)
    right = _random_rotations(generator, 15, 0.6)
    betas = torch.randn(BATCH, 10, generator=generator)
    expression = torch.randn(BATCH, 50, generator=generator) * 0.5

    layer = placeholder_smplx_layer()
    with torch.no_grad():
        model_out = layer(
            global_orient=body[:, :1],
            body_pose=body[:, 1:22],
            jaw_pose=face[:, 0:1],
            leye_pose=face[:, 1:2],
            reye_pose=face[:, 2:3],
            left_hand_pose=left,
            right_hand_pose=right,
            betas=betas,
            expression=expression,
        )
    model_joints = model_out.joints[:, :55].double().numpy()

    local = local_rotations(body.numpy(), face.numpy(), left.numpy(), right.numpy())
    pose = smplx_pose(local)
    transl = np.array([[0.1, -0.2, 3.0], [0.0, 0.0, 2.0], [-1.0, 0.5, 7.0]])

    consumer = placeholder_smplx(batch_size=BATCH)
    params = [pose.parameters(i) for i in range(BATCH)]
    kwargs = {
        k: torch.tensor(np.stack([p[k] for p in params]), dtype=torch.float32) for k in params[0]
    }
    with torch.no_grad():
        rebuilt = consumer(
            betas=betas, expression=expression, transl=torch.tensor(transl, dtype=torch.float32),
            **kwargs,
        )  # fmt: skip
    rebuilt_joints = rebuilt.joints[:, :55].double().numpy()
    assert np.abs(rebuilt_joints - (model_joints + transl[:, None])).max() < 1e-3

    # Global rotations carry each rest-pose bone onto the posed bone.
    with torch.no_grad():
        rest = consumer(betas=betas, expression=expression).joints[:, :55].double().numpy()
    for joint, parent in enumerate(SMPLX_PARENTS[1:], start=1):
        rest_bone = rest[:, joint] - rest[:, parent]
        posed_bone = model_joints[:, joint] - model_joints[:, parent]
        carried = np.einsum("bij,bj->bi", pose.global_rotations[:, parent], rest_bone)
        assert np.abs(carried - posed_bone).max() < 1e-4, SMPLX_JOINT_NAMES[joint]
