"""JSON form of results and the overlay drawing."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from pipeline_fakes import person_at

from pymafx_ros.config import PipelineConfig
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.pipeline.overlay import draw_people
from pymafx_ros.pipeline.pipeline import Pipeline
from pymafx_ros.pipeline.serialize import frame_to_dict


def _frame_result(fake_model, fake_model_info, with_vertices: bool = True):
    config = PipelineConfig(detector="external", device="cpu", with_vertices=with_vertices)
    pipeline = Pipeline(config, model=fake_model, model_info=fake_model_info)
    frame = np.full((480, 640, 3), 40, dtype=np.uint8)
    return frame, pipeline.process(frame, boxes=[person_at(320, 240, 300)])


def test_frame_json_holds_every_person_field(fake_model, fake_model_info) -> None:
    _, result = _frame_result(fake_model, fake_model_info)
    record = json.loads(json.dumps(frame_to_dict(result, frame=7, source="x.png")))
    assert record["frame"] == 7 and record["source"] == "x.png"
    assert record["placeholder_weights"] is True
    assert set(record["timings_ms"]) == {"frontend", "tracking", "crops", "model", "lift", "total"}
    [person] = record["people"]
    expected = {f.name for f in dataclasses.fields(PersonResult)} - {"vertices"}
    assert set(person) == expected
    np.testing.assert_allclose(person["joints"], result.people[0].joints)
    assert person["body_box"] == dataclasses.asdict(result.people[0].body_box)
    assert record["intrinsics"]["from_camera_info"] is False


def test_overlay_draws_mesh_and_skeleton(fake_model, fake_model_info) -> None:
    frame, result = _frame_result(fake_model, fake_model_info)
    info = fake_model_info
    drawn = draw_people(frame, result.people, result.intrinsics, info.joint_parents, info.faces)
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    changed = (drawn != frame).any(axis=2)
    assert changed.sum() > 500
    # Pixels change only near what the person projects to (inside the body box).
    box = result.people[0].body_box
    xs = np.nonzero(changed)[1]
    assert xs.min() >= box.x0 - 5 and xs.max() <= box.x1 + 5
    assert (frame == 40).all()  # the input is left untouched


def test_overlay_survives_people_far_off_screen(fake_model, fake_model_info) -> None:
    frame, result = _frame_result(fake_model, fake_model_info)
    person = result.people[0]
    far = dataclasses.replace(
        person,
        keypoints_2d=person.keypoints_2d + 1e9,
        vertices=person.vertices * np.array([1.0, 1.0, -1.0], np.float32),  # behind the camera
    )
    info = fake_model_info
    drawn = draw_people(frame, [far], result.intrinsics, info.joint_parents, info.faces)
    assert drawn.shape == frame.shape


def test_overlay_names_bad_options(fake_model, fake_model_info) -> None:
    frame, result = _frame_result(fake_model, fake_model_info)
    parents = fake_model_info.joint_parents
    with pytest.raises(ValueError, match="colours must hold one entry per person"):
        draw_people(frame, result.people, result.intrinsics, parents, colours=[])
    with pytest.raises(ValueError, match="mesh_style"):
        draw_people(frame, result.people, result.intrinsics, parents, mesh_style="solid")
