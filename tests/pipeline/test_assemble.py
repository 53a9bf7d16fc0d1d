"""Result assembly: published 2D is the projection of published 3D, for any camera."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_fakes import person_at

from pymafx_ros.geometry.camera import Intrinsics, project_points
from pymafx_ros.model.rotations import axis_angle_to_rotmat
from pymafx_ros.pipeline.assemble import FinalOutput, assemble_people, part_box


def _synthetic_output(rng: np.random.Generator, batch: int, cam_scale: float) -> FinalOutput:
    def rotations(count: int) -> np.ndarray:
        axis_angle = torch.from_numpy(rng.uniform(-1, 1, (batch, count, 3)))
        return axis_angle_to_rotmat(axis_angle).numpy()

    joints = rng.uniform(-0.5, 0.5, (batch, 144, 3)) * np.array([0.5, 1.8, 0.4])
    return FinalOutput(
        cams=np.tile([cam_scale, 0.05, -0.02], (batch, 1)),
        body_rotmat=rotations(24),
        face_rotmat=rotations(3),
        left_hand_rotmat=rotations(15),
        right_hand_rotmat=rotations(15),
        betas=rng.normal(size=(batch, 10)),
        expression=rng.normal(size=(batch, 50)),
        all_joints=joints,
        vertices=None,
        hand_visibility=np.tile([0.05, 0.5], (batch, 1)),
    )


@settings(max_examples=40, deadline=None)
@given(
    fx=st.floats(200, 3000),
    fy=st.floats(200, 3000),
    principal=st.tuples(st.floats(0, 639), st.floats(0, 479)),
    body=st.tuples(st.floats(-200, 840), st.floats(-200, 680), st.floats(30, 1500)),
    cam_scale=st.floats(0.3, 3.0),
    seed=st.integers(0, 2**16),
)
def test_published_keypoints_are_the_projection_of_published_joints(
    fx, fy, principal, body, cam_scale, seed
) -> None:
    rng = np.random.default_rng(seed)
    intrinsics = Intrinsics(fx, fy, *principal)
    output = _synthetic_output(rng, 2, cam_scale)
    people = [person_at(*body[:2], body[2] / 1.2), person_at(320, 240, 300)]
    published, dropped = assemble_people(output, people, intrinsics)
    assert len(published) + dropped == 2
    for person in published:
        assert person.is_finite() and (person.joints[:, 2] > 0).all()
        np.testing.assert_allclose(
            person.keypoints_2d, project_points(person.joints, intrinsics), rtol=0, atol=1e-9
        )
        index = [part_box(p.body) for p in people].index(person.body_box)
        np.testing.assert_allclose(
            person.joints, output.all_joints[index, :55] + person.transl, atol=1e-12
        )


def test_parameters_and_flags_come_from_the_right_places() -> None:
    rng = np.random.default_rng(0)
    output = _synthetic_output(rng, 1, 1.0)
    [person], dropped = assemble_people(
        output, [person_at(320, 240, 300)], Intrinsics(500, 500, 320, 240)
    )
    assert dropped == 0
    assert not person.left_hand_valid and person.right_hand_valid  # model gate at 0.1
    np.testing.assert_array_equal(person.betas, output.betas[0])
    np.testing.assert_array_equal(person.expression, output.expression[0])
    assert person.body_pose.shape == (63,) and person.left_hand_pose.shape == (45,)
    back = axis_angle_to_rotmat(torch.from_numpy(person.global_orient)).numpy()
    np.testing.assert_allclose(back, output.body_rotmat[0, 0], atol=1e-9)
    # Global rotation of the root is its local one; of a child, parent @ local.
    np.testing.assert_allclose(person.joint_rotations[0], output.body_rotmat[0, 0], atol=1e-12)
    expected = output.body_rotmat[0, 0] @ output.body_rotmat[0, 3]  # spine1 under the pelvis
    np.testing.assert_allclose(person.joint_rotations[3], expected, atol=1e-12)
