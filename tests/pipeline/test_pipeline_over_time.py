"""The pipeline over a video (fake model, external boxes): ids, smoothing on and off, part boxes
from the track, hands held through a missed detection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pipeline_fakes import CountingFakeModel, person_at
from smplx_doubles import placeholder_model_info

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.pipeline import Pipeline
from pymafx_ros.tracking.quality import high_pass_rms

FPS = 30.0
FRAMES = 16


@pytest.fixture
def layer(fake_smplx_layer):
    return fake_smplx_layer


def pipeline(layer, smoothing: bool = True, **config) -> Pipeline:
    settings = PipelineConfig(detector="external", max_people=3, **config)
    settings.tracking.smoothing.enable = smoothing
    return Pipeline(settings, model=CountingFakeModel(layer), model_info=placeholder_model_info())


def noisy_frames(count: int, seed: int = 0):
    """Frames of varying brightness (the fake model's poses follow it) with a jittering box."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        frame = np.full((480, 640, 3), 100 + rng.integers(-30, 30), dtype=np.uint8)
        box = person_at(320 + 2 * index + rng.normal(0, 4), 240 + rng.normal(0, 4), 300)
        yield index, frame, box


def test_smoothing_cuts_joint_jitter_and_says_so(layer):
    joints = {}
    for smoothing in (False, True):
        run = pipeline(layer, smoothing)
        results = [
            run.process(frame, timestamp_ms=round(1e3 * i / FPS), boxes=[box])
            for i, frame, box in noisy_frames(FRAMES)
        ]
        assert all(r.smoothing is smoothing for r in results)
        assert [r.people[0].smoothed for r in results] == [False] + [smoothing] * (FRAMES - 1)
        assert {r.people[0].track_id for r in results} == {"p1"}
        joints[smoothing] = np.array([r.people[0].joints for r in results])
        tracks = results[-1].tracks
        assert [t.track_id for t in tracks] == ["p1"] and tracks[0].age_frames == FRAMES
        # Off: the same joints, recomputed from the parameters (equal to rounding).
        assert (tracks[0].jitter_mm < 0.95 * tracks[0].jitter_raw_mm) is smoothing
        assert (tracks[0].lag_ms > 0) is smoothing
    stamps = np.arange(FRAMES) / FPS
    raw, smooth = (high_pass_rms(stamps[3:], joints[k][3:]) for k in (False, True))
    assert smooth < 0.75 * raw
    # The raw run is the pipeline without a filter: same first frame, then different.
    np.testing.assert_allclose(joints[True][0], joints[False][0])


def test_two_people_keep_their_ids_when_the_boxes_come_in_any_order(layer):
    run = pipeline(layer)
    seen = []
    for index in range(6):
        a, b = person_at(150 + 10 * index, 240, 300), person_at(500 - 10 * index, 240, 280)
        boxes = [a, b] if index % 2 else [b, a]
        result = run.process(
            np.zeros((480, 640, 3), np.uint8), timestamp_ms=33 * index, boxes=boxes
        )
        seen.append(
            {round(p.body_box.x0 + p.body_box.width / 2) < 320: p.track_id for p in result.people}
        )
    assert all(s == {True: seen[0][True], False: seen[0][False]} for s in seen)
    # A newcomer waits for confirmation (2 frames by default): the model never sees it before.
    newcomer = person_at(320, 100, 100)
    frame = np.zeros((480, 640, 3), np.uint8)
    first = run.process(frame, timestamp_ms=33 * 6, boxes=[a, b, newcomer])
    second = run.process(frame, timestamp_ms=33 * 7, boxes=[a, b, newcomer])
    assert len(first.people) == 2 and sorted(p.track_id for p in second.people) == [
        "p1",
        "p2",
        "p3",
    ]


def test_a_hand_missed_for_a_frame_keeps_its_box_and_the_hand_expert(layer):
    run = pipeline(layer, smoothing=False)
    frame = np.full((480, 640, 3), 80, np.uint8)
    seen = person_at(320, 240, 300, vis=(0.8, 0.8, 0.9))
    first = run.process(frame, timestamp_ms=0, boxes=[seen])
    model = run._model  # the counting fake: what the model was given is in its records
    missed = dataclasses.replace(seen, vis_lhand=0.0)
    second = run.process(frame, timestamp_ms=33, boxes=[missed])
    person = second.people[0]
    # Held: the hand expert still drives the left wrist, with the last good visibility ...
    assert person.left_hand_valid and person.left_hand_visibility == pytest.approx(0.8)
    # ... and its box is the previous estimate's projected hand moved with the body, not the
    # detector's unchanged guess.
    assert person.left_hand_box != first.people[0].left_hand_box
    assert len(model.calls) == 2
    for index in range(2, 6):
        person = run.process(frame, timestamp_ms=33 * index, boxes=[missed]).people[0]
    assert not person.left_hand_valid  # off after hold_frames (3) frames
