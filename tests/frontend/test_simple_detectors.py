"""The factory, the full-frame detector and the detector fed with boxes from outside."""

from __future__ import annotations

import json
from dataclasses import astuple

import numpy as np
import pytest

from pymafx_ros.frontend import PartBox, PersonDetection, create_detector
from pymafx_ros.frontend.external import person_from_record, person_to_record

FRAME = np.zeros((480, 640, 3), np.uint8)


def test_factory_refuses_unknown_kinds_and_bad_limits():
    with pytest.raises(ValueError, match="full_frame"):
        create_detector("yolo")
    with pytest.raises(ValueError, match="max_people"):
        create_detector("external", max_people=0)
    with pytest.raises(ValueError, match="min_person_score"):
        create_detector("external", min_score=1.5)


def test_full_frame_is_one_person_covering_the_image():
    (person,) = create_detector("full_frame").detect(FRAME)
    assert person.body == PartBox(319.5, 239.5, 640.0)
    assert person.score == 1.0
    assert (person.vis_lhand, person.vis_rhand, person.vis_face) == (0.0, 0.0, 0.0)
    assert person.face.cy < person.body.cy  # placeholder face in the upper half
    assert person.left_hand.cx > person.body.cx > person.right_hand.cx  # facing the camera


def test_a_record_with_square_and_tight_boxes():
    record = {
        "score": 0.8,
        "body": {"cx": 320, "cy": 240, "size": 400},
        "left_hand": {"xyxy": [400, 300, 440, 350]},
        "vis_lhand": 0.7,
        "face": {"cx": 320, "cy": 100, "size": 80},
    }
    person = person_from_record(record)
    assert astuple(person.left_hand) == pytest.approx((420.0, 325.0, 1.2 * 50 * 1.2))
    assert (person.vis_lhand, person.vis_rhand, person.vis_face) == (0.7, 0.0, 1.0)
    assert person.right_hand.cx < person.body.cx  # placeholder for the missing hand
    again = person_from_record(json.loads(json.dumps(person_to_record(person))))
    assert again == person


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"face": {"cx": 1, "cy": 1, "size": 1}}, "'body'"),
        ({"body": {"cx": 1, "cy": 1}}, "missing size"),
        ({"body": {"cx": 1, "cy": 1, "size": -2}}, "positive"),
        ({"body": {"cx": "a", "cy": 1, "size": 2}}, "body.cx"),
        ({"body": {"xyxy": [0, 0, 10]}}, "x0, y0, x1, y1"),
        ({"body": {"xyxy": [10, 0, 0, 10]}}, "x1 > x0"),
        ({"body": {"cx": 1, "cy": 1, "size": 2}, "vis_face": 2.0}, r"\[0, 1\]"),
    ],
)
def test_bad_records_are_refused(record, message):
    with pytest.raises(ValueError, match=message):
        person_from_record(record)


def test_external_boxes_per_call_or_standing_filtered_and_sorted():
    detector = create_detector("external", max_people=2, min_score=0.3)
    assert detector.detect(FRAME) == []
    boxes = [
        {"score": 0.2, "body": {"cx": 100, "cy": 100, "size": 50}},
        {"score": 0.9, "body": {"cx": 200, "cy": 100, "size": 50}},
        {"score": 0.9, "body": {"cx": 300, "cy": 100, "size": 90}},
        {"score": 0.5, "body": {"cx": 400, "cy": 100, "size": 90}},
    ]
    people = detector.detect(FRAME, 0, boxes=boxes)
    assert [p.body.cx for p in people] == [300, 200]
    assert detector.detect(FRAME) == []  # per-call boxes do not stay
    detector.set_boxes(boxes[3:])
    assert [p.body.cx for p in detector.detect(FRAME, 5)] == [400]
    assert [p.body.cx for p in detector.detect(FRAME, 9)] == [400]


def test_external_accepts_detections_and_refuses_a_bare_record():
    person = PersonDetection(
        0.9, *(PartBox(1.0, 1.0, 5.0),) * 4, vis_lhand=0.0, vis_rhand=0.0, vis_face=0.0
    )
    detector = create_detector("external", boxes=[person])
    assert detector.detect(FRAME) == [person]
    with pytest.raises(ValueError, match="list of records"):
        detector.set_boxes({"body": {"cx": 1, "cy": 1, "size": 2}})
