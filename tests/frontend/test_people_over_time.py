"""Every tracked person in every frame (issue #21, gap 1): the front end looks again for each
live track where the tracker predicts it, not only for the previous frame's people."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.frontend.multi_person_detector import MultiPersonDetector
from pymafx_ros.frontend.region_search import Window, look_again, on_body
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.tools.scenes import Scene, count_found, people_clips
from pymafx_ros.tracking.people import PeopleOverTime

FPS = 30.0
FRAMES = 24


def test_a_window_on_a_predicted_box_stays_inside_the_frame():
    # Near the right edge and taller than the frame: shifted in, no larger than the frame.
    assert on_body(PartBox(1100, 300, 600), 1152, 512) == Window(640, 0, 512)
    assert on_body(PartBox(400, 250, 300), 1152, 512) == Window(250, 100, 300)


def test_people_whose_windows_overlap_share_them():
    near = [PartBox(400, 250, 300), PartBox(420, 250, 300)]
    far = [PartBox(400, 250, 300), PartBox(900, 250, 300)]
    assert len(look_again(near, 1152, 512)) == 1
    assert len(look_again(far, 1152, 512)) == 2
    # Each person gets a tight window first and a grown fallback.
    assert [w.side for w in look_again(far, 1152, 512)[1]] == [300, 390]


def published_shares(clip: list[Scene], max_people: int) -> tuple[np.ndarray, int]:
    """Each person's share of frames in which a confirmed track published them, and the number
    of published detections that were nobody; detector and tracker chained as the pipeline
    chains them (predicted boxes first, then the frame, then the tracker)."""
    detector = MultiPersonDetector(max_people=max_people)
    over_time = PeopleOverTime()
    seen = np.zeros(len(clip[0].noses))
    false_people = 0
    try:
        for index, scene in enumerate(clip):
            stamp_ms = round(index * 1e3 / FPS)
            detector.expect_people(over_time.predicted_boxes(stamp_ms / 1e3))
            found = detector.detect(scene.rgb, stamp_ms)[:max_people]
            published = over_time.begin_frame(found, stamp_ms / 1e3, False).people
            false_people += count_found(scene, published)[1]
            for person in range(len(scene.noses)):
                alone = Scene(scene.name, scene.rgb, scene.noses[person : person + 1])
                seen[person] += count_found(alone, published)[0]
    finally:
        detector.close()
    return seen / len(clip), false_people


@pytest.fixture(scope="module")
def clips(private_cache, no_network):
    return people_clips(FRAMES)


@pytest.mark.parametrize(
    ("name", "max_people", "least_share"),
    [
        # The clip: the cameraman was published in 4 of 24 frames (grid frames only).
        ("astronaut + cameraman", 2, 0.95),
        ("hopper + cameraman (mirrored)", 10, 0.95),
        ("3: astronaut (mirrored), hopper, astronaut", 10, 0.95),
    ],
)
def test_a_tracked_person_is_published_while_visible(clips, name, max_people, least_share):
    shares, false_people = published_shares(clips[name], max_people)
    print(f"\n[figure] {name}: share of frames per person {shares.round(3).tolist()}")
    assert shares.min() >= least_share and false_people == 0
