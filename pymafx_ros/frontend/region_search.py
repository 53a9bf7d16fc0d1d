"""Where to look again for people the whole-frame pose pass misses.

MediaPipe's pose detector sees the whole frame letterboxed to 224 px and returns only part of
a crowd: two people side by side often come back as one. Running it again on square windows,
each seen at the detector's own resolution, finds them (README, "Finding every person"). Two
kinds of windows: a grid of overlapping squares covering the frame (side = the frame's shorter
side, plus half that side on frames large enough that a person of ``min_person_px`` would be
small in a full-height window), and one square around each person seen in the previous frame.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from pymafx_ros.frontend.types import PartBox

# Measured on the bundled photos: the pose detector finds an upper body filling 19 % of a
# window's height; a quarter leaves a margin.
MIN_PERSON_SHARE = 0.25
# Neighbouring grid windows overlap by half a side, so nobody is cut in two by every window.
GRID_OVERLAP = 0.5
# A re-detection window is the previous body box grown by this much (the person moved).
AROUND_BODY_MARGIN = 1.3
DEFAULT_MIN_PERSON_PX = 150


class Window(NamedTuple):
    """A square region of the frame: top-left corner and side, in pixels (may reach outside)."""

    x0: int
    y0: int
    side: int


def _starts(length: int, side: int) -> list[int]:
    """Window origins along one axis: every ``side * (1 - overlap)`` px, the last flush."""
    if length <= side:
        return [0]
    stride = max(1, round(side * (1.0 - GRID_OVERLAP)))
    count = math.ceil((length - side) / stride) + 1
    return sorted({min(i * stride, length - side) for i in range(count)})


def window_sides(width: int, height: int, min_person_px: int = DEFAULT_MIN_PERSON_PX) -> list[int]:
    """Grid window sides: the frame's shorter side, halved while a person of ``min_person_px``
    would fill less than ``MIN_PERSON_SHARE`` of the window and still fits the half."""
    sides = [min(width, height)]
    while min_person_px < MIN_PERSON_SHARE * sides[-1] and sides[-1] // 2 >= min_person_px:
        sides.append(sides[-1] // 2)
    return sides


def grid_windows(
    width: int, height: int, min_person_px: int = DEFAULT_MIN_PERSON_PX
) -> list[Window]:
    """Overlapping square windows covering a ``width`` x ``height`` frame at every side of
    :func:`window_sides`; a square frame's full-size window is left out (the whole-frame pass
    already saw exactly that)."""
    return [
        Window(x, y, side)
        for side in window_sides(width, height, min_person_px)
        if not side == width == height
        for y in _starts(height, side)
        for x in _starts(width, side)
    ]


def around_body(body: PartBox) -> Window:
    """The square window centred on a body box, grown by ``AROUND_BODY_MARGIN``."""
    side = max(2, round(AROUND_BODY_MARGIN * body.size))
    return Window(round(body.cx - side / 2), round(body.cy - side / 2), side)
