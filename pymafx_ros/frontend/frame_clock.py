"""When a tracking (video-mode) MediaPipe graph may carry state from the previous frame.

MediaPipe's video mode needs strictly increasing timestamps and tracks people from frame to
frame. A frame without a timestamp is an independent image; a timestamp that goes back (a
replayed bag, a looped video) or jumps far ahead starts a new sequence, so tracking restarts.
A restart keeps the graph (MediaPipe 0.10.21 does not give back a closed graph's memory: about
20 MB per Tasks landmarker recreated) and makes it forget its tracks with one blank frame
(``FORGET_FRAME``: nobody on it, so every track and its smoothing filter is dropped, the same
state as a new graph's); ``GraphTimeline`` keeps the graph's own stamps increasing across restarts.
"""

from __future__ import annotations

import math
import numbers
from enum import Enum

import numpy as np

# Tracking across a longer gap follows people who have long moved: start afresh.
MAX_TRACKING_GAP_MS = 1000
# A frame with nobody on it: a video graph fed it drops every track (see the module doc).
FORGET_FRAME = np.zeros((64, 64, 3), np.uint8)
FORGET_FRAME.flags.writeable = False
# Gap left between a sequence's last stamp and the next one's first on the graph's timeline.
RESTART_GAP_MS = MAX_TRACKING_GAP_MS + 1
# MediaPipe's default: landmark confidence under which tracking is dropped and detection reruns.
DEFAULT_TRACKING_THRESHOLD = 0.5


def as_stamp(timestamp_ms: object) -> int | None:
    """A frame's timestamp as whole milliseconds (MediaPipe takes ints), None kept as None."""
    if timestamp_ms is None:
        return None
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, numbers.Real):
        raise ValueError(
            f"timestamp_ms must be a number of milliseconds or None, got {timestamp_ms!r}"
        )
    if not math.isfinite(timestamp_ms):
        raise ValueError(f"timestamp_ms must be finite, got {timestamp_ms}")
    return int(timestamp_ms)


class FrameKind(Enum):
    """How a detector should treat a frame."""

    IMAGE = "image"  # independent image: no tracking state in or out
    NEXT = "next"  # next frame of the current sequence
    RESTART = "restart"  # first frame of a new sequence: drop tracking state first


class FrameClock:
    """Classify each frame's timestamp against the previous one of the same sequence."""

    def __init__(self, max_gap_ms: int = MAX_TRACKING_GAP_MS) -> None:
        self._max_gap_ms = max_gap_ms
        self._last_ms: int | None = None

    def classify(self, timestamp_ms: int | None) -> FrameKind:
        """Kind of the frame stamped ``timestamp_ms`` (None: no time, an independent image)."""
        if timestamp_ms is None:
            return FrameKind.IMAGE
        stamp = timestamp_ms
        last, self._last_ms = self._last_ms, stamp
        if last is None or stamp <= last or stamp - last > self._max_gap_ms:
            return FrameKind.RESTART
        return FrameKind.NEXT


class GraphTimeline:
    """One long-lived MediaPipe video graph's stamps (ms): the frames' own stamps shifted so
    they keep increasing across sequence restarts (a replayed bag starts at the same stamps
    again), with the blank forget frame between two sequences."""

    def __init__(self) -> None:
        self._offset = 0
        self._last: int | None = None

    def forget_stamp(self) -> int:
        """The graph stamp of the forget frame (right after the last one given)."""
        self._last = 0 if self._last is None else self._last + 1
        return self._last

    def stamp(self, timestamp_ms: int) -> int:
        """The graph stamp of a frame stamped ``timestamp_ms``: the frame's own stamp plus an
        offset that moves only when a stamp would not follow the last one."""
        stamp = timestamp_ms + self._offset
        if self._last is not None and stamp <= self._last:
            self._offset += self._last + RESTART_GAP_MS - stamp
            stamp = self._last + RESTART_GAP_MS
        self._last = stamp
        return stamp
