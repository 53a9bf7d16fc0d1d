"""MediaPipe front end by head count: Holistic for one person, the Tasks models for several.

Both use only the models inside the mediapipe 0.10.21 wheel (nothing is downloaded; the Tasks
bundles are packed from them once into the cache). Left/right are the person's own sides: the
pose model labels them so (checked on skimage's astronaut photo, whose name patch reads the
right way round, and on its mirror image) and both paths take hand sides from the pose.
``keypoints`` of a detection: 'body' (17,3) COCO order x, y, pose visibility; for a hand found
by the hand model '<side>_hand' (21,3); for a found face 'face': the 468 face-mesh points
(Holistic) or the face detector's 6 keypoints (several people). Their third column is the
part's confidence (see ``person_parts``). Timestamps: see ``frame_clock``.
"""

from __future__ import annotations

from typing import Any

from pymafx_ros.frontend.types import PersonDetector


def create_mediapipe_detector(
    max_people: int = 1, min_score: float = 0.5, **options: Any
) -> PersonDetector:
    """Holistic when ``max_people == 1`` (it finds hands and face from the pose, the better
    single-person choice), else the multi-person Tasks detector. ``min_score`` is the pose
    detector's threshold; ``options``: ``tracking_threshold`` (and ``smooth`` for Holistic)."""
    if max_people == 1:
        from pymafx_ros.frontend.holistic_detector import HolisticDetector

        return HolisticDetector(min_score=min_score, **options)
    from pymafx_ros.frontend.multi_person_detector import MultiPersonDetector

    return MultiPersonDetector(max_people=max_people, min_score=min_score, **options)
