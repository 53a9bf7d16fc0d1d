"""Several people per frame: MediaPipe Tasks PoseLandmarker, HandLandmarker and FaceDetector.

The pose and hand models run once over the whole frame. The pose landmarker can return one
person twice, so it is asked for one pose more than ``max_people`` and a pose whose head centre
lies within the head width of a better-ranked pose's head is dropped. Hands go to the person and
side whose pose wrist is nearest (within one hand length), so sides always follow the pose's
labels, the person's own. The palm detector sees the whole frame at 192 px, so small hands are
missed: they get best-guess boxes from the pose with visibility 0. The face detector sees at
128 px, too coarse for a whole frame, so it runs on a crop around each person's head
(``face_search``).
Frames with a timestamp use the video (tracking) mode, frames without one the image mode; the
face detector has no tracking and always runs on still crops.
"""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend import person_parts as parts
from pymafx_ros.frontend.face_search import FoundFace, find_face
from pymafx_ros.frontend.frame_clock import (
    DEFAULT_TRACKING_THRESHOLD,
    FrameClock,
    FrameKind,
    as_stamp,
)
from pymafx_ros.frontend.image_input import check_rgb
from pymafx_ros.frontend.landmark_maps import (
    HAND_WRIST,
    POSE_FACE,
    POSE_WRIST,
    landmarks_to_pixels,
)
from pymafx_ros.frontend.part_matching import match_by_distance
from pymafx_ros.frontend.types import PartBox, PersonDetection

SIDES = ("left", "right")
# MediaPipe's default detection threshold, for hands and faces (people use ``min_score``).
PART_DETECTION_THRESHOLD = 0.5


class _TaskModels:
    """The three Tasks models in one running mode (image or video)."""

    def __init__(self, video: bool, max_people: int, min_score: float, tracking: float) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        from pymafx_ros.frontend import mediapipe_models as models

        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        self.video = video
        self.pose = vision.PoseLandmarker.create_from_options(
            vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(models.pose_landmarker_bundle())),
                running_mode=mode,
                num_poses=max_people + 1,
                min_pose_detection_confidence=min_score,
                min_tracking_confidence=tracking,
            )
        )
        self.hands = vision.HandLandmarker.create_from_options(
            vision.HandLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(models.hand_landmarker_bundle())),
                running_mode=mode,
                num_hands=2 * max_people,
                min_hand_detection_confidence=PART_DETECTION_THRESHOLD,
                min_tracking_confidence=tracking,
            )
        )
        # No tracking to gain, and several crops per frame: always still images.
        self.faces = vision.FaceDetector.create_from_options(
            vision.FaceDetectorOptions(
                base_options=BaseOptions(model_asset_path=str(models.face_detector_model())),
                running_mode=vision.RunningMode.IMAGE,
                min_detection_confidence=PART_DETECTION_THRESHOLD,
            )
        )

    def run(self, rgb: np.ndarray, timestamp_ms: int | None) -> tuple[object, object]:
        """Pose and hand results for the whole frame."""
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self.video:
            return (
                self.pose.detect_for_video(image, timestamp_ms),
                self.hands.detect_for_video(image, timestamp_ms),
            )
        return self.pose.detect(image), self.hands.detect(image)

    def close(self) -> None:
        for model in (self.pose, self.hands, self.faces):
            model.close()


class MultiPersonDetector:
    """Up to ``max_people`` people per frame; ``min_score`` and ``tracking_threshold`` as for
    ``HolisticDetector``."""

    def __init__(
        self,
        max_people: int = 2,
        min_score: float = 0.5,
        tracking_threshold: float = DEFAULT_TRACKING_THRESHOLD,
    ) -> None:
        self._settings = (max_people, min_score, tracking_threshold)
        self._max_people = max_people
        self._models: dict[bool, _TaskModels] = {}
        self._clock = FrameClock()

    def _models_for(self, kind: FrameKind) -> _TaskModels:
        video = kind is not FrameKind.IMAGE
        if kind is FrameKind.RESTART and video in self._models:
            # Tasks video mode cannot forget its tracks or go back in time: start it anew.
            self._models.pop(video).close()
        if video not in self._models:
            self._models[video] = _TaskModels(video, *self._settings)
        return self._models[video]

    def detect(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PersonDetection]:
        """People in ``rgb`` (H,W,3) uint8, sorted by score then body size, largest first."""
        rgb = check_rgb(rgb)
        timestamp_ms = as_stamp(timestamp_ms)
        kind = self._clock.classify(timestamp_ms)
        models = self._models_for(kind)
        poses, hands = models.run(rgb, timestamp_ms)
        height, width = rgb.shape[:2]
        people = []
        for landmarks in poses.pose_landmarks:
            pose = landmarks_to_pixels(landmarks, width, height)
            body = parts.body_box_and_score(pose, width, height)
            if body is not None:
                people.append((pose, body))
        people.sort(key=lambda person: (person[1][1], person[1][0].size), reverse=True)
        people = _without_duplicates(people)[: self._max_people]
        poses_px = [pose for pose, _ in people]
        found_hands = [landmarks_to_pixels(h, width, height) for h in hands.hand_landmarks]
        hand_of = _match_hands(poses_px, found_hands)
        face_of = [find_face(models.faces, rgb, pose) for pose in poses_px]
        return [
            self._person(i, pose, body, found_hands, hand_of, face_of, width, height)
            for i, (pose, body) in enumerate(people)
        ]

    @staticmethod
    def _person(
        index: int,
        pose: np.ndarray,
        body: tuple[PartBox, float],
        found_hands: list[np.ndarray],
        hand_of: dict[tuple[int, str], int],
        face_of: list[FoundFace | None],
        width: int,
        height: int,
    ) -> PersonDetection:
        keypoints = {"body": parts.maps.coco_body_keypoints(pose)}
        hand_boxes: dict[str, tuple[PartBox, float]] = {}
        for side in SIDES:
            if (index, side) in hand_of:
                hand = found_hands[hand_of[index, side]]
                box, vis, keypoints[f"{side}_hand"] = parts.hand_from_landmarks(
                    side, pose, hand, width, height
                )
                hand_boxes[side] = (box, vis)
            else:
                hand_boxes[side] = (parts.guessed_hand_box(side, pose, width, height), 0.0)
        if face_of[index] is not None:
            face, vis_face, keypoints["face"] = face_of[index]
        else:
            face, vis_face = parts.guessed_face_box(pose, width, height), 0.0
        return parts.assemble_detection(body, hand_boxes, (face, vis_face), keypoints)

    def close(self) -> None:
        """Close the MediaPipe tasks."""
        for models in self._models.values():
            models.close()
        self._models.clear()


def _without_duplicates(
    people: list[tuple[np.ndarray, tuple[PartBox, float]]],
) -> list[tuple[np.ndarray, tuple[PartBox, float]]]:
    """Drop each pose whose head centre lies within the head width of a pose kept before it."""
    kept: list[tuple[np.ndarray, tuple[PartBox, float]]] = []
    heads: list[tuple[np.ndarray, float]] = []
    for person in people:
        head = person[0][list(POSE_FACE), :2]
        centre, width = head.mean(axis=0), float(np.ptp(head, axis=0).max())
        if all(np.linalg.norm(centre - c) >= max(width, w) for c, w in heads):
            kept.append(person)
            heads.append((centre, width))
    return kept


def _match_hands(poses: list[np.ndarray], hands: list[np.ndarray]) -> dict[tuple[int, str], int]:
    """{(person index, side): hand index}: hand wrist to pose wrist, within one hand length."""
    slots = [(i, side) for i in range(len(poses)) for side in SIDES]
    anchors = np.array([poses[i][POSE_WRIST[side], :2] for i, side in slots])
    wrists = np.array([hand[HAND_WRIST, :2] for hand in hands])
    lengths = np.array([np.ptp(hand[:, :2], axis=0).max() for hand in hands])
    matches = match_by_distance(anchors, wrists, lengths)
    return {slots[slot]: hand for slot, hand in matches.items()}
