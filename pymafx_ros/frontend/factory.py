"""One entry point for every front end: ``create_detector(kind, ...)``."""

from __future__ import annotations

from typing import Any

from pymafx_ros.frontend.types import PersonDetector

DETECTOR_KINDS = ("mediapipe", "full_frame", "external")


def create_detector(
    kind: str = "mediapipe", max_people: int = 1, min_score: float = 0.5, **options: Any
) -> PersonDetector:
    """Build a detector by name; every kind returns people sorted by score then body size.

    ``mediapipe``: MediaPipe's bundled models (Holistic for one person, Tasks pose/hand/face for
    several); ``min_score`` is its pose detector's threshold. ``full_frame``: the whole image is
    one person (``max_people``/``min_score`` do not apply). ``external``: boxes come from
    outside, per call or standing (:class:`pymafx_ros.frontend.external.ExternalBoxDetector`);
    records scoring under ``min_score`` are dropped. ``options`` go to the detector's constructor.
    """
    if max_people < 1:
        raise ValueError(f"max_people must be >= 1, got {max_people}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must lie in [0, 1], got {min_score}")
    if kind == "mediapipe":
        from pymafx_ros.frontend.mediapipe_detector import create_mediapipe_detector

        return create_mediapipe_detector(max_people=max_people, min_score=min_score, **options)
    if kind == "full_frame":
        from pymafx_ros.frontend.full_frame import FullFrameDetector

        return FullFrameDetector(**options)
    if kind == "external":
        from pymafx_ros.frontend.external import ExternalBoxDetector

        return ExternalBoxDetector(max_people=max_people, min_score=min_score, **options)
    raise ValueError(f"unknown detector kind {kind!r}; choose one of {', '.join(DETECTOR_KINDS)}")
