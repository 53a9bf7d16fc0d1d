"""The ``experts`` option in the pipeline around the real network: a left-out expert's parts are
neither cropped nor run, its outputs are the neutral ones and flagged, also through the temporal
filter over a video."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from eager_predictor import model_predictor
from pipeline_fakes import person_at

from pymafx_ros.config import ConfigError, PipelineConfig
from pymafx_ros.pipeline.device_crops import FrameCrops
from pymafx_ros.pipeline.pipeline import Pipeline
from pymafx_ros.pipeline.serialize import person_to_dict

pytestmark = pytest.mark.slow  # the real model

PEOPLE = [person_at(200, 300, 300, vis=(0.9, 0.8, 0.9)), person_at(440, 300, 300)]


def _run(real_model, frame, monkeypatch, experts: str, frames: int = 1, smoothing: bool = True):
    """(people of the last frame, encoder batch sizes per expert, boxes cropped per call)."""
    module, info = real_model
    calls: dict[str, list[int]] = {"body": [], "hand": [], "face": []}
    handles = [
        module.encoders[name].register_forward_hook(
            lambda _m, inputs, _out, name=name: calls[name].append(inputs[0].shape[0])
        )
        for name in calls
    ]
    cropped: list[int] = []
    original = FrameCrops.crops
    monkeypatch.setattr(
        FrameCrops,
        "crops",
        lambda self, boxes, device: cropped.append(len(boxes)) or original(self, boxes, device),
    )
    config = PipelineConfig(detector="external", device="cpu", max_people=2, experts=experts)
    config.tracking.smoothing.enable = smoothing
    pipeline = Pipeline(config, model=model_predictor(module), model_info=info)
    try:
        for index in range(frames):
            result = pipeline.process(frame, timestamp_ms=33 * index, boxes=PEOPLE)
    finally:
        for handle in handles:
            handle.remove()
    assert len(result.people) == 2
    return result.people, calls, cropped


def test_without_the_face_expert_the_face_is_neutral_and_flagged(
    real_model, astronaut_640, monkeypatch
):
    people, calls, cropped = _run(real_model, astronaut_640, monkeypatch, "body,hands", 3)
    assert calls["face"] == [] and calls["body"] == [2, 2, 2] and calls["hand"] == [4, 4, 4]
    assert cropped == [6, 6, 6]  # 2 bodies and 4 hands per frame, no face crop
    for person in people:
        assert person.smoothed  # the temporal filter ran and kept the face neutral
        assert not person.face_estimated and not person.face_valid
        for name in ("jaw_pose", "leye_pose", "reye_pose", "expression"):
            assert np.array_equal(getattr(person, name), np.zeros_like(getattr(person, name)))
        assert person_to_dict(person)["face_estimated"] is False
    assert people[0].left_hand_valid and people[0].right_hand_valid


def test_the_raw_estimate_is_exactly_neutral_too(real_model, astronaut_640, monkeypatch):
    people, _, _ = _run(real_model, astronaut_640, monkeypatch, "body,hands", smoothing=False)
    for person in people:
        assert not person.smoothed and not person.face_estimated
        for name in ("jaw_pose", "leye_pose", "reye_pose", "expression"):
            assert np.array_equal(getattr(person, name), np.zeros_like(getattr(person, name)))


def test_body_only_runs_neither_hands_nor_face(real_model, astronaut_640, monkeypatch):
    people, calls, cropped = _run(real_model, astronaut_640, monkeypatch, "body")
    assert calls["face"] == [] and sum(calls["hand"]) == 0 and cropped == [2]
    for person in people:
        assert not (person.left_hand_valid or person.right_hand_valid)
        assert not person.face_estimated
    # The hands are exactly what hidden hands give (the mean pose).
    module, info = real_model
    config = PipelineConfig(detector="external", device="cpu", max_people=2, experts="body,hands")
    pipeline = Pipeline(config, model=model_predictor(module), model_info=info)
    unseen = [dataclasses.replace(p, vis_lhand=0.0, vis_rhand=0.0) for p in PEOPLE]
    reference = pipeline.process(astronaut_640, boxes=unseen).people
    for ours, theirs in zip(people, reference, strict=True):
        np.testing.assert_allclose(ours.left_hand_pose, theirs.left_hand_pose, atol=1e-6)
        np.testing.assert_allclose(ours.body_pose, theirs.body_pose, atol=1e-5)


def test_all_experts_estimate_the_face(real_model, astronaut_640, monkeypatch):
    people, calls, cropped = _run(real_model, astronaut_640, monkeypatch, "body,hands,face")
    assert calls["face"] == [2] and cropped == [8]
    assert all(p.face_estimated for p in people)


@pytest.mark.parametrize("bad", ["hands,face", "face", "body,face", "body, hands", ""])
def test_a_bad_experts_value_is_refused_clearly(bad):
    with pytest.raises(ConfigError, match=r"'experts' is .*choose one of 'body,hands,face'"):
        PipelineConfig(experts=bad).validate()


def test_leaving_the_body_out_says_why():
    with pytest.raises(ConfigError, match="the body expert always runs"):
        PipelineConfig(experts="hands,face").validate()
