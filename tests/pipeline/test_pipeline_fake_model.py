"""Pipeline behaviour with a counting fake model: batching, empty frames, guards, results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from pipeline_fakes import CountingFakeModel, person_at
from smplx_doubles import placeholder_smplx

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.geometry.camera import Intrinsics, project_points
from pymafx_ros.pipeline.pipeline import Pipeline

FRAME = np.zeros((480, 640, 3), dtype=np.uint8)


def _pipeline(model, info, **config) -> Pipeline:
    config = PipelineConfig(detector="external", device="cpu", **config)
    return Pipeline(config, model=model, model_info=info)


def test_several_people_run_each_expert_once(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info, max_people=3)
    people = [person_at(150, 240, 300), person_at(320, 240, 250), person_at(500, 240, 280)]
    result = pipeline.process(FRAME, boxes=people)
    assert fake_model.calls == [{"body": 3, "hand": 6, "face": 3}]
    assert len(result.people) == 3


def test_nobody_skips_the_model(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info)
    result = pipeline.process(FRAME, boxes=[])
    assert result.people == [] and fake_model.calls == []
    assert set(result.timings_ms) == {"frontend", "tracking", "crops", "model", "lift", "total"}
    assert result.intrinsics.from_camera_info is False


def test_people_are_capped_and_filtered_by_score(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info, max_people=2, min_person_score=0.5)
    people = [
        person_at(150, 240, 300, score=0.6),
        person_at(320, 240, 250, score=0.4),
        person_at(500, 240, 280, score=0.95),
        person_at(400, 240, 280, score=0.7),
    ]
    result = pipeline.process(FRAME, boxes=people)
    assert [p.detection_score for p in result.people] == [0.95, 0.7]


def test_result_is_consistent_smplx(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info, with_vertices=True)
    intrinsics = Intrinsics(500.0, 520.0, 330.0, 250.0)
    result = pipeline.process(FRAME, intrinsics=intrinsics, boxes=[person_at(320, 240, 300)])
    person = result.people[0]
    assert result.intrinsics == intrinsics
    np.testing.assert_allclose(person.keypoints_2d, project_points(person.joints, intrinsics))
    assert (person.joints[:, 2] > 0).all() and person.vertices.shape == (10475, 3)
    assert person.joint_rotations.shape == (55, 3, 3)
    assert person.left_hand_valid and person.right_hand_valid and person.face_valid
    assert person.body_box.width == pytest.approx(360.0)

    consumer = placeholder_smplx()
    names = ("global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose",
             "left_hand_pose", "right_hand_pose", "betas", "expression", "transl")  # fmt: skip
    kwargs = {n: torch.tensor(getattr(person, n), dtype=torch.float32)[None] for n in names}
    with torch.no_grad():
        output = consumer(**kwargs)
    assert np.abs(output.joints[0, :55].numpy() - person.joints).max() < 1e-3
    assert np.abs(output.vertices[0].numpy() - person.vertices).max() < 1e-3


def test_hand_validity_follows_the_visibility_gate(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info)
    result = pipeline.process(FRAME, boxes=[person_at(320, 240, 300, vis=(0.05, 0.5, 0.0))])
    person = result.people[0]
    assert not person.left_hand_valid and person.right_hand_valid and not person.face_valid
    assert person.left_hand_visibility == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("broken", "value"), [([1], float("nan")), ([0, 1], float("nan")), ([0], float("inf"))]
)
def test_non_finite_people_are_dropped_and_counted(
    fake_smplx_layer, fake_model_info, broken, value
) -> None:
    class BrokenModel(CountingFakeModel):
        def __call__(self, *args, **kwargs):
            final = dict(super().__call__(*args, **kwargs))
            final["pred_shape"] = final["pred_shape"].clone()
            final["pred_shape"][broken] = value
            return final

    pipeline = _pipeline(BrokenModel(fake_smplx_layer), fake_model_info, max_people=2)
    result = pipeline.process(FRAME, boxes=[person_at(200, 240, 300), person_at(450, 240, 300)])
    assert len(result.people) == 2 - len(broken) and result.dropped_non_finite == len(broken)
    assert all(person.is_finite() for person in result.people)


def test_people_with_unusable_boxes_are_skipped(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info, max_people=3)
    good = person_at(320, 240, 300)
    broken = [
        dataclasses.replace(good, body=PartBox(float("nan"), 240.0, 300.0)),
        dataclasses.replace(good, face=PartBox(320.0, 100.0, 0.0)),
    ]
    result = pipeline.process(FRAME, boxes=[*broken, good])
    assert len(result.people) == 1 and fake_model.calls[0]["body"] == 1


def test_degenerate_camera_is_dropped(fake_smplx_layer, fake_model_info) -> None:
    pipeline = _pipeline(CountingFakeModel(fake_smplx_layer, cam_scale=-0.5), fake_model_info)
    result = pipeline.process(FRAME, boxes=[person_at(320, 240, 300)])
    assert result.people == [] and result.dropped_non_finite == 1


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((480, 640), np.uint8), "grayscale"),
        (np.zeros((480, 640, 4), np.uint8), "alpha"),
        (np.zeros((480, 640, 3), np.float32), "uint8"),
        (np.zeros((0, 640, 3), np.uint8), "too small"),
        ("not an image", "numpy array"),
    ],
)
def test_bad_frames_are_named(fake_model, fake_model_info, frame, message) -> None:
    pipeline = _pipeline(fake_model, fake_model_info)
    with pytest.raises(ValueError, match=message):
        pipeline.process(frame, boxes=[])


def test_bad_settings_are_named(fake_model, fake_model_info) -> None:
    with pytest.raises(ValueError, match="detector"):
        Pipeline(PipelineConfig(detector="yolo"), model=fake_model, model_info=fake_model_info)
    with pytest.raises(ValueError, match="max_people"):
        _pipeline(fake_model, fake_model_info, max_people=0)
    pipeline = _pipeline(fake_model, fake_model_info)
    with pytest.raises(ValueError, match="fx, fy > 0"):
        pipeline.process(FRAME, intrinsics=Intrinsics(0.0, 0.0, 0.0, 0.0), boxes=[])
    with pytest.raises(ValueError, match="one record per person"):
        pipeline.process(FRAME, boxes={"body": {"cx": 1, "cy": 1, "size": 5}})
    assert pipeline.process(FRAME).people == []  # external without standing boxes: nobody
