"""Hand/face boxes from the body expert's projection, carried along tracks, full_frame mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pipeline_fakes import person_at

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.full_frame import FullFrameDetector
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.pipeline.assemble import part_box
from pymafx_ros.pipeline.lift import crop_camera_keypoints
from pymafx_ros.pipeline.part_projection import (
    FACE_LANDMARKS,
    LEFT_HAND_JOINTS,
    project_parts,
)
from pymafx_ros.pipeline.pipeline import Pipeline
from pymafx_ros.tracking.people import follow_body


def test_projected_boxes_enclose_the_projected_part(fake_model) -> None:
    person = person_at(320, 240, 300)
    images = np.zeros((4, 1, 3, 224, 224), dtype=np.float32)
    final = fake_model(*[torch.from_numpy(i) for i in images])
    joints = final["smplx_joints"].double().numpy()
    cams = final["pred_cam"].double().numpy()
    [moved] = project_parts([person], joints, cams, 640, 480)
    pixels = crop_camera_keypoints(joints, cams, np.array([[320.0, 240.0, 360.0]]))[0]
    for box, indices, rescale in (
        (moved.left_hand, LEFT_HAND_JOINTS, 1.2),
        (moved.face, FACE_LANDMARKS, 1.4),
    ):
        points = pixels[list(indices)]
        extent = (points.max(0) - points.min(0)).max()
        assert box.size == pytest.approx(1.2 * rescale * extent)
        np.testing.assert_allclose([box.cx, box.cy], (points.max(0) + points.min(0)) / 2)
    assert 0.0 <= moved.vis_lhand <= 1.0 and moved.body == person.body


def test_a_part_box_follows_its_body() -> None:
    before = person_at(300, 240, 200)
    now = PartBox(310, 240, 1.1 * before.body.size)
    moved = follow_body(before.left_hand, before.body, now)
    ratio = now.size / before.body.size
    assert moved.size == pytest.approx(before.left_hand.size * ratio)
    assert moved.cx == pytest.approx(310 + (before.left_hand.cx - 300) * ratio)
    assert moved.cy == pytest.approx(240 + (before.left_hand.cy - 240) * ratio)


def test_full_frame_projects_parts_then_reuses_them(fake_model, fake_model_info) -> None:
    config = PipelineConfig(detector="full_frame", device="cpu")
    pipeline = Pipeline(config, model=fake_model, model_info=fake_model_info)
    frame = np.full((480, 640, 3), 90, dtype=np.uint8)
    first = pipeline.process(frame, timestamp_ms=0)
    # First frame: a body pass to find the parts, then the real pass; the track's next frame:
    # one pass, its parts carried from the first estimate.
    assert len(fake_model.calls) == 2
    second = pipeline.process(frame, timestamp_ms=33)
    assert len(fake_model.calls) == 3
    assert first.people[0].track_id == second.people[0].track_id == "p1"
    # A still image is nobody's next frame: it starts from scratch.
    pipeline.process(frame)
    assert len(fake_model.calls) == 5
    assert len(first.people) == len(second.people) == 1
    person = second.people[0]
    # Boxes come from the projection, not the front end's placeholders.
    placeholders = FullFrameDetector().detect(frame)[0]
    assert person.left_hand_box != part_box(placeholders.left_hand)
    assert person.face_box != part_box(placeholders.face)
    assert 0.0 <= person.face_visibility <= 1.0
