"""Front end whose boxes come from outside (a ROS topic, a file), as plain records.

A record is a JSON/YAML-friendly mapping, one per person::

    {"score": 0.9,                                   # optional, default 1
     "body": {"cx": 320, "cy": 240, "size": 400},    # required
     "left_hand": {"xyxy": [400, 300, 440, 350]},    # optional, person's own left
     "right_hand": ..., "face": ...,                 # optional
     "vis_lhand": 0.8, "vis_rhand": 0.0, "vis_face": 1.0}   # optional

A box is either ``{"cx", "cy", "size"}`` (the release's square, used as is) or
``{"xyxy": [x0, y0, x1, y1]}`` (a tight box around the part, in pixels, turned into the
release's square by its rule for that part). A missing hand or face gets a placeholder box with
visibility 0; a given one has visibility 1 unless its ``vis_*`` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from pymafx_ros.frontend.box_rules import (
    BODY_RESCALE,
    FACE_RESCALE,
    HAND_RESCALE,
    box_from_extent,
)
from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.image_input import check_rgb
from pymafx_ros.frontend.types import PartBox, PersonDetection

PART_RESCALE = {
    "body": BODY_RESCALE,
    "left_hand": HAND_RESCALE,
    "right_hand": HAND_RESCALE,
    "face": FACE_RESCALE,
}
PART_VISIBILITY = {"left_hand": "vis_lhand", "right_hand": "vis_rhand", "face": "vis_face"}

BoxRecords = Iterable[Mapping[str, Any] | PersonDetection]


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def box_from_record(record: Mapping[str, Any], part: str) -> PartBox:
    """A part's square box from ``{"cx","cy","size"}`` or ``{"xyxy": [x0,y0,x1,y1]}``."""
    if not isinstance(record, Mapping):
        raise ValueError(f"{part} box must be a mapping, got {type(record).__name__}")
    if "xyxy" in record:
        corners = record["xyxy"]
        if not isinstance(corners, (list, tuple)) or len(corners) != 4:
            raise ValueError(f"{part}.xyxy must be [x0, y0, x1, y1], got {corners!r}")
        x0, y0, x1, y1 = (_number(v, f"{part}.xyxy") for v in corners)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"{part}.xyxy needs x1 > x0 and y1 > y0, got {list(corners)}")
        return box_from_extent(x0, y0, x1, y1, PART_RESCALE[part])
    missing = {"cx", "cy", "size"} - set(record)
    if missing:
        raise ValueError(
            f"{part} box needs cx, cy and size (or xyxy); missing {', '.join(sorted(missing))}"
        )
    size = _number(record["size"], f"{part}.size")
    if size <= 0:
        raise ValueError(f"{part}.size must be positive, got {size}")
    return PartBox(
        cx=_number(record["cx"], f"{part}.cx"), cy=_number(record["cy"], f"{part}.cy"), size=size
    )


def _visibility(record: Mapping[str, Any], key: str, default: float) -> float:
    if key not in record:
        return default
    value = _number(record[key], key)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{key} must lie in [0, 1], got {value}")
    return value


def person_from_record(record: Mapping[str, Any]) -> PersonDetection:
    """A :class:`PersonDetection` from one box record (format in the module docstring)."""
    if not isinstance(record, Mapping) or "body" not in record:
        raise ValueError(f"a box record must be a mapping with a 'body' box, got {record!r}")
    body = box_from_record(record["body"], "body")
    boxes = default_parts(body)
    visibility = {}
    for part, key in PART_VISIBILITY.items():
        given = record.get(part) is not None
        if given:
            boxes[part] = box_from_record(record[part], part)
        visibility[key] = _visibility(record, key, 1.0 if given else 0.0)
    score = _visibility(record, "score", 1.0)
    return PersonDetection(score=score, body=body, **boxes, **visibility)


def person_to_record(person: PersonDetection) -> dict[str, Any]:
    """The box record of a person (inverse of :func:`person_from_record`; no keypoints)."""
    record: dict[str, Any] = {"score": float(person.score)}
    for part in PART_RESCALE:
        box = getattr(person, part)
        record[part] = {"cx": float(box.cx), "cy": float(box.cy), "size": float(box.size)}
    for key in PART_VISIBILITY.values():
        record[key] = float(getattr(person, key))
    return record


class ExternalBoxDetector:
    """People from given boxes: per call (``detect(..., boxes=...)``) or standing ones set by
    :meth:`set_boxes` (the latest set is used while a call passes none). Records scoring below
    ``min_score`` are dropped; the rest are sorted by score then body size, capped at
    ``max_people``."""

    def __init__(
        self, max_people: int = 1, min_score: float = 0.5, boxes: BoxRecords = ()
    ) -> None:
        self._max_people = max_people
        self._min_score = min_score
        self._standing = self._parse(boxes)

    @staticmethod
    def _parse(boxes: BoxRecords) -> list[PersonDetection]:
        if isinstance(boxes, Mapping):
            raise ValueError("boxes must be a list of records, one per person, not one record")
        return [b if isinstance(b, PersonDetection) else person_from_record(b) for b in boxes]

    def set_boxes(self, boxes: BoxRecords) -> None:
        """Replace the standing boxes (records or :class:`PersonDetection`)."""
        self._standing = self._parse(boxes)

    def detect(
        self, rgb: np.ndarray, timestamp_ms: int | None = None, boxes: BoxRecords | None = None
    ) -> list[PersonDetection]:
        """The given people for frame ``rgb`` (H,W,3) uint8, which is only checked."""
        check_rgb(rgb)
        people = self._standing if boxes is None else self._parse(boxes)
        kept = [p for p in people if p.score >= self._min_score]
        kept.sort(key=lambda p: (p.score, p.body.size), reverse=True)
        return kept[: self._max_people]

    def close(self) -> None:
        """Nothing to release."""
