"""Timestamps decide between still images, the next tracked frame and a restart."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.frontend.frame_clock import (
    MAX_TRACKING_GAP_MS,
    RESTART_GAP_MS,
    FrameClock,
    FrameKind,
    GraphTimeline,
    as_stamp,
)


def test_stamps_classify_frames():
    clock = FrameClock()
    kinds = [clock.classify(t) for t in (None, 0, 33, 66, None, 99, 50, 83, 83)]
    assert kinds == [
        FrameKind.IMAGE,
        FrameKind.RESTART,  # first stamp
        FrameKind.NEXT,
        FrameKind.NEXT,
        FrameKind.IMAGE,  # an unstamped frame leaves the sequence alone
        FrameKind.NEXT,
        FrameKind.RESTART,  # back in time
        FrameKind.NEXT,
        FrameKind.RESTART,  # same stamp twice
    ]


def test_a_long_gap_restarts_tracking():
    clock = FrameClock()
    clock.classify(0)
    assert clock.classify(MAX_TRACKING_GAP_MS) is FrameKind.NEXT
    assert clock.classify(2 * MAX_TRACKING_GAP_MS + 1) is FrameKind.RESTART


def test_stamps_become_whole_milliseconds_or_errors():
    assert as_stamp(None) is None
    assert as_stamp(7.9) == 7 and as_stamp(np.int64(12)) == 12
    for bad in ("12", True, float("nan")):
        with pytest.raises(ValueError, match="timestamp_ms"):
            as_stamp(bad)


def test_the_graph_timeline_keeps_increasing_over_replays_and_forget_frames():
    timeline = GraphTimeline()
    given = [timeline.stamp(t) for t in (1000, 1033, 1066)]
    assert given == [1000, 1033, 1066]  # a first sequence keeps its own stamps
    forget = timeline.forget_stamp()
    replay = [timeline.stamp(t) for t in (1000, 1033, 1066)]  # the bag again
    assert forget == 1067 and replay[0] == forget + RESTART_GAP_MS
    assert np.diff(replay).tolist() == [33, 33]  # time steps within a sequence kept
    assert timeline.stamp(1066) > replay[-1]  # a repeated stamp too
