"""Person ids that survive from frame to frame while the body box stays put (IoU carry-over).

A stop-gap until real tracking: each box takes the id of the best-overlapping box of the
previous processed frame (greedy, IoU >= threshold), otherwise a new id ``p<n>``. Ids follow
REP-155 syntax (a letter, then [a-z0-9_]) and are never reused within one node run.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from pymafx_ros.pipeline.result import Box


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    iw = min(a.x1, b.x1) - max(a.x0, b.x0)
    ih = min(a.y1, b.y1) - max(a.y0, b.y0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


class PersonIdAssigner:
    """Assigns ids to the body boxes of successive frames."""

    def __init__(self, iou_threshold: float = 0.3) -> None:
        self._threshold = iou_threshold
        self._previous: dict[str, Box] = {}
        self._next_number = 1

    def assign(self, boxes: Sequence[Box]) -> list[str]:
        """One id per box, in order; boxes of the previous call that match keep their id."""
        pairs = sorted(
            (
                (box_iou(box, old), index, person_id)
                for index, box in enumerate(boxes)
                for person_id, old in self._previous.items()
            ),
            key=lambda pair: (-pair[0], pair[1]),
        )
        ids: list[str | None] = [None] * len(boxes)
        taken: set[str] = set()
        for iou, index, person_id in pairs:
            if iou < self._threshold:
                break
            if ids[index] is None and person_id not in taken:
                ids[index] = person_id
                taken.add(person_id)
        for index, person_id in enumerate(ids):
            if person_id is None:
                ids[index] = self._new_id()
        self._previous = dict(zip(ids, boxes, strict=True))
        return ids  # type: ignore[return-value]

    def _new_id(self) -> str:
        self._next_number += 1
        return f"p{self._next_number - 1}"


def id_number(person_id: str) -> int:
    """A stable non-negative int32 for an id (marker ids, colours): n for ``p<n>``, else a hash."""
    if person_id.startswith("p") and person_id[1:].isdigit():
        return int(person_id[1:]) & 0x7FFFFFFF
    return zlib.crc32(person_id.encode()) & 0x7FFFFFFF
