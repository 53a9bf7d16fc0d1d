"""The pipeline around the real PyMAF-X network (placeholder assets, seed-0 weights).

The poses are meaningless with placeholder weights, but every geometric property holds: one
call per expert for a crowd, mirror symmetry of the hand path, SMPL-X consistency.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from pipeline_fakes import person_at
from smplx_doubles import placeholder_smplx

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.geometry.camera import project_points
from pymafx_ros.model.rotations import axis_angle_to_rotmat
from pymafx_ros.pipeline.model_loading import model_predictor
from pymafx_ros.pipeline.pipeline import Pipeline

SMPLX_PARAMETERS = (
    "global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose", "left_hand_pose",
    "right_hand_pose", "betas", "expression", "transl",
)  # fmt: skip

pytestmark = pytest.mark.slow  # the real model on photos


def _external(real_model, **config) -> Pipeline:
    module, info = real_model
    settings = PipelineConfig(detector="external", device="cpu", **config)
    return Pipeline(
        settings, model=model_predictor(module, settings.with_vertices), model_info=info
    )


def _mirror_box(box: PartBox, width: int) -> PartBox:
    return PartBox(width - 1 - box.cx, box.cy, box.size)


def _mirror_person(person: PersonDetection, width: int) -> PersonDetection:
    """The same person in the mirrored frame: their left hand is where the right one was."""
    return dataclasses.replace(
        person,
        body=_mirror_box(person.body, width),
        left_hand=_mirror_box(person.right_hand, width),
        right_hand=_mirror_box(person.left_hand, width),
        face=_mirror_box(person.face, width),
        vis_lhand=person.vis_rhand,
        vis_rhand=person.vis_lhand,
    )


def test_several_people_run_each_expert_exactly_once(real_model, astronaut_640) -> None:
    module, _ = real_model
    calls: dict[str, list[int]] = {"body": [], "hand": [], "face": []}
    handles = [
        module.encoders[name].register_forward_hook(
            lambda _m, inputs, _out, name=name: calls[name].append(inputs[0].shape[0])
        )
        for name in calls
    ]
    try:
        pipeline = _external(real_model, max_people=3)
        people = [
            person_at(110, 300, 300),
            person_at(320, 300, 300, vis=(0.05, 0.8, 0.9)),  # left hand below the gate
            person_at(530, 300, 300, vis=(0.1, 0.0, 0.9)),  # no hand above it
        ]
        result = pipeline.process(astronaut_640, boxes=people)
    finally:
        for handle in handles:
            handle.remove()
    # One batch per expert: 3 bodies, the 3 visible hands (right ones, then flipped left
    # ones; hidden hands are not run), 3 faces.
    assert calls == {"body": [3], "hand": [3], "face": [3]}
    assert len(result.people) + result.dropped_non_finite == 3


def test_mirrored_frame_gives_mirrored_hands(real_model, astronaut_640) -> None:
    pipeline = _external(real_model, with_vertices=True)
    width = astronaut_640.shape[1]
    person = person_at(320, 260, 330, vis=(0.9, 0.9, 0.9))
    person = dataclasses.replace(
        person,
        left_hand=PartBox(395.0, 420.0, 70.0),
        right_hand=PartBox(250.3, 410.7, 64.0),
    )
    mirrored_frame = np.ascontiguousarray(astronaut_640[:, ::-1])
    result = pipeline.process(astronaut_640, boxes=[person])
    original = result.people[0]
    mirrored = pipeline.process(mirrored_frame, boxes=[_mirror_person(person, width)]).people[0]

    flip = np.array([1.0, -1.0, -1.0])
    for ours, theirs in (
        (mirrored.left_hand_pose, original.right_hand_pose),
        (mirrored.right_hand_pose, original.left_hand_pose),
    ):
        expected = theirs.reshape(15, 3) * flip
        np.testing.assert_allclose(ours.reshape(15, 3), expected, atol=1e-4)
        # Same check on rotation matrices, immune to the axis-angle ambiguity at pi.
        rot = axis_angle_to_rotmat(torch.from_numpy(ours.reshape(15, 3))).numpy()
        rot_expected = axis_angle_to_rotmat(torch.from_numpy(expected)).numpy()
        np.testing.assert_allclose(rot, rot_expected, atol=1e-4)

    _check_smplx_consistency(result)


def _check_smplx_consistency(result) -> None:
    """The published parameters through smplx.SMPLX give the published joints and vertices."""
    [person] = result.people
    consumer = placeholder_smplx()
    params = {n: torch.tensor(getattr(person, n)).float()[None] for n in SMPLX_PARAMETERS}
    with torch.no_grad():
        output = consumer(**params)
    assert np.abs(output.joints[0, :55].numpy() - person.joints).max() < 1e-3
    assert np.abs(output.vertices[0].numpy() - person.vertices).max() < 1e-3
    np.testing.assert_allclose(
        person.keypoints_2d, project_points(person.joints, result.intrinsics), atol=1e-6
    )
    assert result.placeholder_assets and result.placeholder_weights


def test_front_end_finds_the_person_on_the_sample_photo(real_model, astronaut) -> None:
    module, info = real_model
    config = PipelineConfig(detector="mediapipe", device="cpu")
    pipeline = Pipeline(config, model=model_predictor(module), model_info=info)
    try:
        result = pipeline.process(astronaut)
    finally:
        pipeline.close()
    assert len(result.people) + result.dropped_non_finite == 1
    for person in result.people:
        assert person.is_finite() and (person.joints[:, 2] > 0).all()
        assert person.face_valid  # the face is in plain view
    assert result.timings_ms["model"] > 0 and result.timings_ms["frontend"] > 0
