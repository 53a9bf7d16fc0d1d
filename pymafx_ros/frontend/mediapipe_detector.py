"""MediaPipe front end by head count: Holistic for one person, the Tasks models for several."""

from __future__ import annotations

from typing import Any

from pymafx_ros.frontend.types import PersonDetector


def create_mediapipe_detector(
    max_people: int = 1, min_score: float = 0.5, **options: Any
) -> PersonDetector:
    """Holistic when ``max_people == 1`` (it tracks hands and face from the pose, the better
    single-person choice), else the multi-person Tasks detector. ``options``: thresholds."""
    if max_people == 1:
        from pymafx_ros.frontend.holistic_detector import HolisticDetector

        return HolisticDetector(min_score=min_score, **options)
    from pymafx_ros.frontend.multi_person_detector import MultiPersonDetector

    return MultiPersonDetector(max_people=max_people, min_score=min_score, **options)
