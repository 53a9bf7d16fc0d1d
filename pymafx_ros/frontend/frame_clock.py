"""When a tracking (video-mode) MediaPipe graph may carry state from the previous frame.

MediaPipe's video mode needs strictly increasing timestamps and tracks people from frame to
frame. A frame without a timestamp is an independent image; a timestamp that goes back (a
replayed bag, a looped video) or jumps far ahead starts a new sequence, so tracking restarts.
"""

from __future__ import annotations

import math
import numbers
from enum import Enum

# Tracking across a longer gap follows people who have long moved: start afresh.
MAX_TRACKING_GAP_MS = 1000
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
