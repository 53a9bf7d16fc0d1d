"""Several people per frame: MediaPipe Tasks PoseLandmarker, HandLandmarker and FaceDetector.

The pose and hand models run once over the whole frame. That pass misses people in a crowd (two
people side by side often come back as one), so the pose landmarker runs again on square windows
(``region_search``): a grid over the whole frame for still images, at the start of a sequence and
every ``grid_interval`` frames, and in between a window around each person expected in the frame
that the whole-frame pass did not find: each live track's predicted box (``expect_people``, given
by the tracking stage before ``detect``) and each person of the previous frame. So a tracked
person missed once is looked for again in every frame while the track lives. Per missed person
a tight in-frame window, and a grown one only when that finds nobody, both with a lower pose
detection threshold (``LOOK_AGAIN_DETECTION``: the track says somebody is there); people whose
windows overlap share them; at most ``max_people`` people are looked for: a frame costs at most
2 x ``max_people`` pose passes more than the whole-frame pass and grid (0 while all are found).
The pose landmarker can return one person twice (and the windows
overlap), so a pose whose head centre lies within the head width of a better-ranked pose's head
is dropped; poses seen whole inside their window rank before poses the window cut. Hands go to
the person and side whose pose wrist is nearest (within one hand length), so sides always follow
the pose's labels, the person's own. The palm detector sees the whole frame at 192 px, so small
hands are missed: they get best-guess boxes from the pose with visibility 0. The face detector
sees at 128 px, too coarse for a whole frame, so it runs on a crop around each person's head
(``face_search``).
Frames with a timestamp use the video (tracking) mode, frames without one the image mode; the
face detector has no tracking and always runs on still crops. Every model is created once: a new
sequence makes the video models forget their tracks (``frame_clock``), it does not recreate them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymafx_ros.frontend import person_parts as parts
from pymafx_ros.frontend.box_rules import fraction_inside, square_iou
from pymafx_ros.frontend.face_search import FoundFace, find_face, square_crop
from pymafx_ros.frontend.frame_clock import (
    DEFAULT_TRACKING_THRESHOLD,
    FORGET_FRAME,
    FrameClock,
    FrameKind,
    GraphTimeline,
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
from pymafx_ros.frontend.region_search import (
    DEFAULT_MIN_PERSON_PX,
    Window,
    grid_windows,
    look_again,
)
from pymafx_ros.frontend.types import PartBox, PersonDetection

SIDES = ("left", "right")
# MediaPipe's default detection threshold, for hands and faces (people use ``min_score``).
PART_DETECTION_THRESHOLD = 0.5
# Video frames between two grid searches (people who walk in are found within this many).
DEFAULT_GRID_INTERVAL = 5
# Poses asked of one search window: a window holds one or two people at most.
POSES_PER_WINDOW = 2
# Body boxes overlapping this much are one person (the usual person non-maximum suppression).
DUPLICATE_BODY_IOU = 0.6
# The pose detector's threshold in windows on a live track's predicted box: the track says
# somebody is there, and on noisy frames the detector's confidence for a person it found a
# frame before dips below 0.5 (the people clips: the cameraman in 22 of 24 frames at 0.5, in 24
# at 0.3). People found there still pass the pipeline's min_person_score on their landmarks.
LOOK_AGAIN_DETECTION = 0.3
# A previous person counts as found again by the whole-frame pass at this body-box overlap.
FOUND_AGAIN_IOU = 0.3

# A candidate person: pose landmarks (33,3) px, (body box, score), share of the COCO keypoints
# inside the region that saw them.
_Candidate = tuple[np.ndarray, tuple[PartBox, float], float]


class _TaskModels:
    """The three Tasks models in one running mode (image or video)."""

    def __init__(self, video: bool, max_people: int, min_score: float, tracking: float) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        from pymafx_ros.frontend import mediapipe_models as models

        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        self.video = video
        self._timeline = GraphTimeline()
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
            assert timestamp_ms is not None
            stamp = self._timeline.stamp(timestamp_ms)
            return (
                self.pose.detect_for_video(image, stamp),
                self.hands.detect_for_video(image, stamp),
            )
        return self.pose.detect(image), self.hands.detect(image)

    def forget_tracks(self) -> None:
        """Drop the video models' tracks (a new sequence) without recreating them: see
        ``frame_clock.FORGET_FRAME``."""
        import mediapipe as mp

        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=FORGET_FRAME)
        stamp = self._timeline.forget_stamp()
        self.pose.detect_for_video(image, stamp)
        self.hands.detect_for_video(image, stamp)

    def close(self) -> None:
        for model in (self.pose, self.hands, self.faces):
            model.close()


class MultiPersonDetector:
    """Up to ``max_people`` people per frame; ``min_score`` and ``tracking_threshold`` as for
    ``HolisticDetector``. ``region_search`` False keeps the whole-frame pass only;
    ``grid_interval`` (video frames between grid searches) and ``min_person_px`` (the smallest
    person height the grid is sized for) tune it."""

    def __init__(
        self,
        max_people: int = 2,
        min_score: float = 0.5,
        tracking_threshold: float = DEFAULT_TRACKING_THRESHOLD,
        region_search: bool = True,
        grid_interval: int = DEFAULT_GRID_INTERVAL,
        min_person_px: int = DEFAULT_MIN_PERSON_PX,
    ) -> None:
        if grid_interval < 1:
            raise ValueError(f"grid_interval must be >= 1 frame, got {grid_interval}")
        if min_person_px < 2:
            raise ValueError(f"min_person_px must be >= 2 pixels, got {min_person_px}")
        self._settings = (max_people, min_score, tracking_threshold)
        self._max_people = max_people
        self._models: dict[bool, _TaskModels] = {}
        self._clock = FrameClock()
        self._region_search = region_search
        self._grid_interval = grid_interval
        self._min_person_px = min_person_px
        # Image-mode pose landmarkers for the windows, by detection threshold.
        self._regions: dict[float, object] = {}
        self._frames_since_grid = 0
        self._previous_bodies: list[PartBox] = []
        self._expected: list[PartBox] = []

    def expect_people(self, bodies: Sequence[PartBox]) -> None:
        """Body boxes (px) the live tracks predict for the next frame: windows go there when
        the whole-frame pass misses them (used for that one frame)."""
        self._expected = list(bodies)

    def _models_for(self, kind: FrameKind) -> _TaskModels:
        video = kind is not FrameKind.IMAGE
        if video not in self._models:
            self._models[video] = _TaskModels(video, *self._settings)
        elif kind is FrameKind.RESTART:
            # Kept, not recreated: a recreated graph's memory is never given back.
            self._models[video].forget_tracks()
        return self._models[video]

    def detect(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PersonDetection]:
        """People in ``rgb`` (H,W,3) uint8, sorted by score then body size, largest first."""
        rgb = check_rgb(rgb)
        timestamp_ms = as_stamp(timestamp_ms)
        kind = self._clock.classify(timestamp_ms)
        models = self._models_for(kind)
        poses, hands = models.run(rgb, timestamp_ms)
        height, width = rgb.shape[:2]
        found = [landmarks_to_pixels(lm, width, height) for lm in poses.pose_landmarks]
        candidates = _candidates(found, Window(0, 0, max(width, height)), width, height)
        grid, expected = self._windows(kind, width, height, candidates)
        for window in grid:
            candidates += _candidates(self._search(rgb, window), window, width, height)
        candidates += self._look_again(rgb, expected, candidates)
        people = _people_of(candidates)
        people.sort(key=lambda person: (person[1][1], person[1][0].size), reverse=True)
        people = people[: self._max_people]
        self._previous_bodies = [body[0] for _, body in people]
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

    def _windows(
        self, kind: FrameKind, width: int, height: int, candidates: list[_Candidate]
    ) -> tuple[list[Window], list[PartBox]]:
        """(grid windows, people to look for again): the grid for stills, new sequences and
        every ``grid_interval`` frames, each live track expected in the frame (and, between
        grids, each person of the previous frame)."""
        expected, self._expected = self._expected, []
        if not self._region_search:
            return [], []
        self._frames_since_grid += 1
        if kind is not FrameKind.NEXT or self._frames_since_grid >= self._grid_interval:
            self._frames_since_grid = 0
            # A new sequence has no live tracks; on later grid frames the grid's fixed windows
            # can cut a tracked person the window on his predicted box finds.
            return grid_windows(width, height, self._min_person_px), expected
        return [], expected + self._previous_bodies

    def _look_again(
        self, rgb: np.ndarray, expected: list[PartBox], candidates: list[_Candidate]
    ) -> list[_Candidate]:
        """Candidates from windows on the expected people no candidate found (a tight window,
        its fallback only when that finds nobody), overlapping ones merged, at most
        ``max_people`` of them."""
        height, width = rgb.shape[:2]
        # Against the people the candidates make (a pose straddling two people is dropped as
        # a duplicate, but would hide the second one's predicted box).
        people = _people_of(candidates)
        missing = [
            body
            for body in expected
            if all(square_iou(body, seen) < FOUND_AGAIN_IOU for _, (seen, _) in people)
        ]
        found: list[_Candidate] = []
        for windows in look_again(missing, width, height)[: self._max_people]:
            for window in windows:
                poses = self._search(rgb, window, min(LOOK_AGAIN_DETECTION, self._settings[1]))
                here = _candidates(poses, window, width, height)
                found += here
                if here:
                    break
        return found

    def _search(
        self, rgb: np.ndarray, window: Window, detection_score: float | None = None
    ) -> list[np.ndarray]:
        """Pose landmarks (33,3) in frame pixels of the people inside one square window; the
        pose detector's threshold is ``min_score`` unless ``detection_score`` is given."""
        import mediapipe as mp

        threshold = self._settings[1] if detection_score is None else detection_score
        if threshold not in self._regions:
            from mediapipe.tasks.python import BaseOptions, vision

            from pymafx_ros.frontend import mediapipe_models as models

            self._regions[threshold] = vision.PoseLandmarker.create_from_options(
                vision.PoseLandmarkerOptions(
                    base_options=BaseOptions(
                        model_asset_path=str(models.pose_landmarker_bundle())
                    ),
                    running_mode=vision.RunningMode.IMAGE,
                    num_poses=POSES_PER_WINDOW,
                    min_pose_detection_confidence=threshold,
                )
            )
        crop = square_crop(rgb, window.x0, window.y0, window.side)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=crop)
        result = self._regions[threshold].detect(image)
        poses = []
        for landmarks in result.pose_landmarks:
            pose = landmarks_to_pixels(landmarks, window.side, window.side)
            pose[:, 0] += window.x0
            pose[:, 1] += window.y0
            poses.append(pose)
        return poses

    def close(self) -> None:
        """Close the MediaPipe tasks."""
        for models in self._models.values():
            models.close()
        self._models.clear()
        for landmarker in self._regions.values():
            landmarker.close()
        self._regions.clear()


def _candidates(
    poses: list[np.ndarray], window: Window, width: int, height: int
) -> list[_Candidate]:
    """People of the poses seen in ``window``: body box and score, share seen inside it."""
    found = []
    for pose in poses:
        body = parts.body_box_and_score(pose, width, height)
        if body is None:
            continue
        local = parts.maps.coco_body_keypoints(pose)[:, :2] - (window.x0, window.y0)
        found.append((pose, body, fraction_inside(local, window.side, window.side)))
    return found


def _people_of(candidates: list[_Candidate]) -> list[tuple[np.ndarray, tuple[PartBox, float]]]:
    """The people the candidates make: best score first (among equals, people seen whole before
    people a window cut), duplicates dropped."""
    ranked = sorted(
        candidates, key=lambda c: (round(c[1][1], 2), c[2], c[1][0].size), reverse=True
    )
    return _without_duplicates([(pose, body) for pose, body, _ in ranked])


def _without_duplicates(
    people: list[tuple[np.ndarray, tuple[PartBox, float]]],
) -> list[tuple[np.ndarray, tuple[PartBox, float]]]:
    """Drop each pose whose head centre lies within the head width of a pose kept before it,
    or whose body box overlaps a kept one by ``DUPLICATE_BODY_IOU`` (a window that cut a person
    can place their head on their chest)."""
    kept: list[tuple[np.ndarray, tuple[PartBox, float]]] = []
    heads: list[tuple[np.ndarray, float]] = []
    for person in people:
        head = person[0][list(POSE_FACE), :2]
        centre, width = head.mean(axis=0), float(np.ptp(head, axis=0).max())
        body = person[1][0]
        if all(np.linalg.norm(centre - c) >= max(width, w) for c, w in heads) and all(
            square_iou(body, other[1][0]) < DUPLICATE_BODY_IOU for other in kept
        ):
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
