"""Timestamps decide between still images, the next tracked frame and a restart."""

from __future__ import annotations

from pymafx_ros.frontend.frame_clock import MAX_TRACKING_GAP_MS, FrameClock, FrameKind


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
