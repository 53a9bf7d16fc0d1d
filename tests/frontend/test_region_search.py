"""Finding every person: search windows, and the multi-person front end on composed scenes."""

from __future__ import annotations

import itertools

import pytest

from pymafx_ros.frontend import create_detector
from pymafx_ros.frontend.region_search import (
    Window,
    around_body,
    grid_windows,
    window_sides,
)
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.tools.scenes import count_found, multi_person_scenes


def test_grid_windows_cover_the_frame_with_overlap():
    windows = grid_windows(1370, 480)
    assert {w.side for w in windows} == {480}
    starts = sorted(w.x0 for w in windows)
    assert starts[0] == 0 and starts[-1] + 480 == 1370
    # Neighbours overlap by at least half a window, so nobody is cut by every window.
    assert all(b - a <= 240 for a, b in itertools.pairwise(starts))
    assert grid_windows(512, 512) == []  # the whole-frame pass already sees exactly that


def test_large_frames_add_a_finer_scale_for_small_people():
    assert window_sides(640, 480) == [480]
    assert window_sides(1920, 1080) == [1080, 540]
    assert window_sides(1920, 1080, min_person_px=300) == [1080]


def test_a_redetection_window_surrounds_the_body():
    window = around_body(PartBox(500, 300, 200))
    assert window == Window(370, 170, 260)


@pytest.fixture(scope="module")
def scenes():
    return {scene.name: scene for scene in multi_person_scenes()}


@pytest.fixture(scope="module")
def detector(private_cache, no_network):
    found = create_detector("mediapipe", max_people=6, min_score=0.5)
    yield found
    found.close()


@pytest.mark.parametrize(
    "name", ["2 side by side", "2 twins (mirrored)", "4 in a row, 300 px", "5 at 200-360 px, HD"]
)
def test_every_person_is_found_and_nobody_else(detector, scenes, name):
    scene = scenes[name]
    assert count_found(scene, detector.detect(scene.rgb)) == (len(scene.noses), 0)


def test_the_whole_frame_pass_alone_misses_people(private_cache, no_network, scenes):
    """What the region search is for (the test above could not fail without it)."""
    alone = create_detector("mediapipe", max_people=6, min_score=0.5, region_search=False)
    try:
        scene = scenes["4 in a row, 300 px"]
        assert count_found(scene, alone.detect(scene.rgb))[0] < len(scene.noses)
    finally:
        alone.close()


def test_in_a_video_lost_people_are_found_again_around_their_last_place(detector, scenes):
    scene = scenes["2 side by side"]
    # The first frame of a video runs the grid; the next ones (before the 5th) only re-detect
    # around people the whole-frame pass lost, and still find both.
    counts = [count_found(scene, detector.detect(scene.rgb, 1000 + 33 * i)) for i in range(4)]
    assert counts == [(2, 0)] * 4


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="grid_interval"):
        create_detector("mediapipe", max_people=2, grid_interval=0)
    with pytest.raises(ValueError, match="min_person_px"):
        create_detector("mediapipe", max_people=2, min_person_px=1)
