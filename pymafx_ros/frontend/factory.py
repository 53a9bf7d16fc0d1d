"""One entry point for every front end: ``create_detector(kind, ...)``."""

from __future__ import annotations

from typing import Any

from pymafx_ros.config import PipelineConfig, check_value
from pymafx_ros.frontend.types import PersonDetector


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
    check_value(PipelineConfig, "detector", kind)
    check_value(PipelineConfig, "max_people", max_people)
    check_value(PipelineConfig, "min_person_score", min_score)
    if kind == "mediapipe":
        from pymafx_ros.frontend.mediapipe_detector import create_mediapipe_detector

        return create_mediapipe_detector(max_people=max_people, min_score=min_score, **options)
    if kind == "full_frame":
        from pymafx_ros.frontend.full_frame import FullFrameDetector

        return FullFrameDetector(**options)
    from pymafx_ros.frontend.external import ExternalBoxDetector  # the last kind: external

    return ExternalBoxDetector(max_people=max_people, min_score=min_score, **options)
