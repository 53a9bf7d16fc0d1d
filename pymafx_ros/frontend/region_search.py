"""Where to look again for people the whole-frame pose pass misses.

MediaPipe's pose detector sees the whole frame letterboxed to 224 px and returns only part of
a crowd: two people side by side often come back as one. Running it again on square windows,
each seen at the detector's own resolution, finds them (README, "Finding every person"). Two
kinds of windows: a grid of overlapping squares covering the frame (side = the frame's shorter
side, plus half that side on frames large enough that a person of ``min_person_px`` would be
small in a full-height window), and one square around each person expected in this frame (a live
track's predicted box, or a person of the previous frame), windows that overlap merged.
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
# Re-detection windows overlapping this much (IoU) are merged into one: nearly the same pixels.
MERGE_OVERLAP = 0.5


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


def around_body(body: PartBox, width: int | None = None, height: int | None = None) -> Window:
    """The square window centred on a body box, grown by ``AROUND_BODY_MARGIN`` (the previous
    frame's person, who may have moved)."""
    side = max(2, round(AROUND_BODY_MARGIN * body.size))
    return Window(round(body.cx - side / 2), round(body.cy - side / 2), side)


def on_body(body: PartBox, width: int, height: int) -> Window:
    """The square of the body box itself (a predicted box: the motion is already in it), no
    larger than the frame's shorter side and shifted to lie inside the frame: black padding
    where the frame ends, or a person filling less of the window, makes the detector miss
    people it finds in the tight, all-image window (measured on the people clips)."""
    side = max(2, min(round(body.size), width, height))
    x0 = min(max(round(body.cx - side / 2), 0), width - side)
    y0 = min(max(round(body.cy - side / 2), 0), height - side)
    return Window(x0, y0, side)


def look_again(bodies: list[PartBox], width: int, height: int) -> list[tuple[Window, ...]]:
    """For people expected at ``bodies`` but not found: windows to try in turn, the tight
    in-frame square first (:func:`on_body`), then the grown one (:func:`around_body`): the pose
    detector's hits on a noisy frame depend on the framing (a third, frame-high square found
    nobody more on the people clips); people whose windows overlap by ``MERGE_OVERLAP`` share
    them."""
    groups: list[tuple[Window, PartBox]] = []
    for body in bodies:
        window = on_body(body, width, height)
        for index, (other, _) in enumerate(groups):
            if _overlap(window, other) >= MERGE_OVERLAP:
                joined = _bounding(window, other)
                size = float(joined.side)
                centre = (joined.x0 + size / 2, joined.y0 + size / 2)
                groups[index] = (joined, PartBox(*centre, size))
                break
        else:
            groups.append((window, body))
    return [(on_body(body, width, height), around_body(body)) for _, body in groups]


def _overlap(a: Window, b: Window) -> float:
    """Intersection over union of two square windows."""
    w = min(a.x0 + a.side, b.x0 + b.side) - max(a.x0, b.x0)
    h = min(a.y0 + a.side, b.y0 + b.side) - max(a.y0, b.y0)
    inter = max(w, 0) * max(h, 0)
    return inter / float(a.side**2 + b.side**2 - inter)


def _bounding(a: Window, b: Window) -> Window:
    """The square around two windows, centred on their bounding rectangle."""
    x0, y0 = min(a.x0, b.x0), min(a.y0, b.y0)
    x1, y1 = max(a.x0 + a.side, b.x0 + b.side), max(a.y0 + a.side, b.y0 + b.side)
    side = max(x1 - x0, y1 - y0)
    return Window(round((x0 + x1 - side) / 2), round((y0 + y1 - side) / 2), side)
