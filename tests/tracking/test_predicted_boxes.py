"""Where the live tracks should be in the next frame: what the front end looks at again."""

from __future__ import annotations

import pytest

from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.tracking.people import PeopleOverTime


def person(cx: float) -> PersonDetection:
    body = PartBox(cx, 200.0, 100.0)
    return PersonDetection(0.9, body, body, body, body, 0.0, 0.0, 0.5)


def test_live_tracks_are_predicted_forward_to_the_stamp():
    over_time = PeopleOverTime()
    assert over_time.predicted_boxes(0.0) == []  # nothing tracked yet
    over_time.begin_frame([person(100.0)], 0.0, False)
    over_time.begin_frame([person(110.0)], 0.1, False)  # 100 px/s, half of it kept (gain 0.5)
    (box,) = over_time.predicted_boxes(0.2)
    assert box.cx == pytest.approx(115.0) and box.size == pytest.approx(100.0)
    # A track missed in a frame is still predicted (it lives max_missed_frames frames).
    over_time.begin_frame([], 0.2, False)
    assert len(over_time.predicted_boxes(0.3)) == 1


def test_no_prediction_across_a_new_sequence_or_for_stills():
    over_time = PeopleOverTime()
    over_time.begin_frame([person(100.0)], 0.0, False)
    assert over_time.predicted_boxes(None) == []
    assert over_time.predicted_boxes(60.0) == []  # a gap over 5 s ends every track
