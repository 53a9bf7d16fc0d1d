"""Single-person front end: MediaPipe Holistic (pose, both hands and face mesh in one call).

Only ``model_complexity=1`` is bundled with the wheel (``lite``/``heavy`` would be downloaded).
Holistic derives each hand from the pose's wrist on the same side, so its left hand is the
person's own left, as the pose labels are. Frames with a timestamp go through a tracking graph,
frames without one through a still-image graph (each created at first use, once: a new
sequence makes the tracking graph forget its person, see ``frame_clock``).
"""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend import person_parts as parts
from pymafx_ros.frontend.frame_clock import (
    DEFAULT_TRACKING_THRESHOLD,
    FORGET_FRAME,
    FrameClock,
    FrameKind,
    as_stamp,
)
from pymafx_ros.frontend.image_input import check_rgb
from pymafx_ros.frontend.landmark_maps import landmarks_to_pixels
from pymafx_ros.frontend.types import PersonDetection


class HolisticDetector:
    """One person per frame, with hands and face, from MediaPipe Holistic.

    ``min_score`` is the pose detector's threshold, MediaPipe's only calibrated person score
    (it is not returned, so a person's ``score`` is the mean visibility of their most visible
    body keypoints); ``tracking_threshold`` is MediaPipe's tracking threshold; ``smooth`` turns
    on MediaPipe's landmark smoothing of tracked frames (it assumes 30 fps).
    """

    def __init__(
        self,
        min_score: float = 0.5,
        tracking_threshold: float = DEFAULT_TRACKING_THRESHOLD,
        smooth: bool = False,
    ) -> None:
        self._settings = dict(
            model_complexity=1,
            smooth_landmarks=smooth,
            min_detection_confidence=min_score,
            min_tracking_confidence=tracking_threshold,
        )
        self._graphs: dict[bool, object] = {}
        self._tracking_has_state = False
        self._clock = FrameClock()

    def _graph(self, still_image: bool) -> object:
        if still_image not in self._graphs:
            from mediapipe.python.solutions import holistic

            self._graphs[still_image] = holistic.Holistic(
                static_image_mode=still_image, **self._settings
            )
        return self._graphs[still_image]

    def detect(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PersonDetection]:
        """At most one person in ``rgb`` (H,W,3) uint8; stamps as the module docstring says."""
        rgb = check_rgb(rgb)
        timestamp_ms = as_stamp(timestamp_ms)
        kind = self._clock.classify(timestamp_ms)
        graph = self._graph(still_image=kind is FrameKind.IMAGE)
        if kind is FrameKind.RESTART and self._tracking_has_state:
            # Not graph.reset(): it rebuilds the graph, whose old memory is never given back.
            graph.process(FORGET_FRAME)
        self._tracking_has_state |= kind is not FrameKind.IMAGE
        result = graph.process(rgb)
        if result.pose_landmarks is None:
            return []
        height, width = rgb.shape[:2]
        person = self._person(result, width, height)
        return [] if person is None else [person]

    def _person(self, result: object, width: int, height: int) -> PersonDetection | None:
        pose = landmarks_to_pixels(result.pose_landmarks.landmark, width, height)
        body = parts.body_box_and_score(pose, width, height)
        if body is None:
            return None
        keypoints = {"body": parts.maps.coco_body_keypoints(pose)}
        hands = {}
        for side, found in (
            ("left", result.left_hand_landmarks),
            ("right", result.right_hand_landmarks),
        ):
            if found is None:
                hands[side] = (parts.guessed_hand_box(side, pose, width, height), 0.0)
                continue
            hand = landmarks_to_pixels(found.landmark, width, height)
            box, vis, keypoints[f"{side}_hand"] = parts.hand_from_landmarks(
                side, pose, hand, width, height
            )
            hands[side] = (box, vis)
        if result.face_landmarks is None:
            face, vis_face = parts.guessed_face_box(pose, width, height), 0.0
        else:
            mesh = landmarks_to_pixels(result.face_landmarks.landmark, width, height)
            face, vis_face, keypoints["face"] = parts.face_from_mesh(pose, mesh, width, height)
        return parts.assemble_detection(body, hands, (face, vis_face), keypoints)

    def close(self) -> None:
        """Close the MediaPipe graphs."""
        for graph in self._graphs.values():
            graph.close()
        self._graphs.clear()
