"""Track ids through crossings, occlusions, births and deaths (synthetic detections)."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.config import TrackerConfig
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.tracking.tracker import Observation, Tracker

# A standing person's 17 COCO keypoints as fractions of the body box side, from its centre.
SKELETON = np.array(
    [
        (0.0, -0.40), (-0.02, -0.42), (0.02, -0.42), (-0.05, -0.41), (0.05, -0.41),
        (-0.12, -0.28), (0.12, -0.28), (-0.15, -0.12), (0.15, -0.12), (-0.16, 0.02),
        (0.16, 0.02), (-0.08, 0.02), (0.08, 0.02), (-0.08, 0.22), (0.08, 0.22),
        (-0.08, 0.42), (0.08, 0.42),
    ]
)  # fmt: skip
FPS = 30.0


def person(cx: float, cy: float, size: float, rng: np.random.Generator) -> Observation:
    points = np.array([cx, cy]) + SKELETON * size + rng.normal(0.0, 2.0, SKELETON.shape)
    keypoints = np.column_stack([points, np.full(len(points), 0.9)])
    return Observation(PartBox(cx, cy, size), keypoints)


def run(frames: list[list[tuple[str, Observation]]], tracker: Tracker, rng) -> list[dict]:
    """Feed each frame's (truth name, observation) pairs in a random order; returns, per frame,
    {truth name: track id or '' while tentative}."""
    ids = []
    for index, frame in enumerate(frames):
        order = rng.permutation(len(frame))
        shuffled = [frame[i] for i in order]
        tracks, _ = tracker.update([obs for _, obs in shuffled], index / FPS)
        ids.append({name: t.track_id for (name, _), t in zip(shuffled, tracks, strict=True)})
    return ids


def crossing(occluded: range = range(0)) -> list[list[tuple[str, Observation]]]:
    """A walks right, B walks left; they cross at frame 15 (B hidden in ``occluded``)."""
    rng = np.random.default_rng(1)
    frames = []
    for t in range(30):
        frame = [("A", person(100 + 15 * t, 260, 300, rng))]
        if t not in occluded:
            frame.append(("B", person(550 - 15 * t, 250, 260, rng)))
        frames.append(frame)
    return frames


@pytest.mark.parametrize("occluded", [range(0), range(13, 18)], ids=["visible", "occluded"])
def test_ids_survive_a_crossing(occluded):
    ids = run(crossing(occluded), Tracker(), np.random.default_rng(2))
    assert ids[0] == {"A": "p1", "B": "p2"} or ids[0] == {"A": "p2", "B": "p1"}
    for frame in ids:
        assert frame["A"] == ids[0]["A"]
        assert frame.get("B", ids[0]["B"]) == ids[0]["B"]


def test_without_prediction_a_greedy_overlap_would_swap():
    """The crossing is a real test: at the crossing the boxes overlap more across people than
    along each track, so overlap alone cannot tell them apart."""
    frames = crossing()
    a_now, b_now = (obs.box for _, obs in frames[15])
    a_before = frames[14][0][1].box
    from pymafx_ros.frontend.box_rules import square_iou

    assert square_iou(a_before, b_now) > 0.5 and square_iou(a_now, b_now) > 0.6


def test_births_need_confirmation_and_deaths_free_no_id():
    rng = np.random.default_rng(3)
    tracker = Tracker(TrackerConfig(confirm_frames=3, max_missed_frames=2))
    still = person(200, 240, 200, rng)
    # The first frame of a sequence confirms at once; a newcomer waits for 3 detections.
    tracks, _ = tracker.update([still], 0.0)
    assert tracks[0].track_id == "p1"
    newcomer = [person(450, 240, 200, rng) for _ in range(3)]
    states = []
    for t in range(3):
        tracks, _ = tracker.update([still, newcomer[t]], (t + 1) / FPS)
        states.append(tracks[1].track_id)
    assert states == ["", "", "p2"]
    # p2 vanishes: kept for 2 frames, then ended; coming back, it is a new person with a new id.
    ended_at = None
    for t in range(4, 8):
        _, ended = tracker.update([still], t / FPS)
        if ended:
            ended_at, (gone,) = t, ended
            assert gone.track_id == "p2"
    assert ended_at == 6
    seen = {
        tracker.update([still, person(450, 240, 200, rng)], (8 + k) / FPS)[0][1].track_id
        for k in range(3)
    }
    assert seen == {"", "p3"}


def test_a_flicker_never_confirms_and_never_burns_an_id():
    rng = np.random.default_rng(4)
    tracker = Tracker(TrackerConfig(confirm_frames=2))
    tracker.update([person(200, 240, 200, rng)], 0.0)
    for t in range(1, 9):
        extra = [person(500, 240, 150, rng)] if t % 2 else []
        tracker.update([person(200, 240, 200, rng), *extra], t / FPS)
    tracks, _ = tracker.update([person(200, 240, 200, rng), person(500, 240, 150, rng)], 9 / FPS)
    tracks, _ = tracker.update([person(200, 240, 200, rng), person(500, 240, 150, rng)], 10 / FPS)
    assert [t.track_id for t in tracks] == ["p1", "p2"]


def test_stills_and_restarts_start_over_without_reusing_ids():
    rng = np.random.default_rng(5)
    tracker = Tracker()
    a, _ = tracker.update([person(200, 240, 200, rng)], None)
    b, ended = tracker.update([person(200, 240, 200, rng)], None)
    assert (a[0].track_id, b[0].track_id) == ("p1", "p2") and ended[0].track_id == "p1"
    tracker.update([person(200, 240, 200, rng)], 10.0)
    # A stamp going back (a looped bag) is a new sequence.
    c, ended = tracker.update([person(200, 240, 200, rng)], 1.0)
    assert c[0].track_id == "p4" and [t.track_id for t in ended] == ["p3"]


def test_far_apart_detections_never_match():
    rng = np.random.default_rng(6)
    tracker = Tracker(TrackerConfig(confirm_frames=1))
    tracker.update([person(100, 240, 150, rng)], 0.0)
    tracks, ended = tracker.update([person(550, 240, 150, rng)], 1 / FPS)
    assert tracks[0].track_id == "p2" and ended == []  # p1 is lost, not yet ended


@pytest.mark.parametrize(
    "field, value", [("confirm_frames", 0), ("max_missed_frames", -1), ("min_iou", 1.5)]
)
def test_bad_settings_are_named(field, value):
    with pytest.raises(ValueError, match=f"tracking.{field}"):
        Tracker(TrackerConfig(**{field: value}))
