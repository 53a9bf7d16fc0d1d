"""Body, hand and face boxes and visibilities of one person from MediaPipe landmarks (pixels).

Visibility rules (the release feeds the mean whole-body keypoint confidence of each part, and
only ``vis > VISIBILITY_GATE`` matters to the model):
- A part that its own model found (hand landmarks, face mesh, face detector) gets
  ``confidence * share of its landmarks inside the image``. The hand and face-mesh models expose
  no per-point or presence score, so their confidence is the pose model's visibility of the
  part's own pose landmarks (wrist/pinky/index/thumb, or the 11 face landmarks), floored at
  ``FOUND_PART_MIN_CONFIDENCE``: the landmark models return a part only once their presence
  score passed their threshold, and a hand held in front of the body is often "occluded" to
  the pose model. The face detector has a score and it is used as is.
- A part its model did not find gets visibility 0 and a best-guess box from the pose landmarks
  (the pose model's wrist visibility is no hand detection: it stays high for a wrist at the
  image edge whose hand is cut off).
Landmarks are clipped into the image before a box is taken, and only body landmarks whose
visibility passes ``VISIBILITY_GATE`` count, so a half-visible person gets the box of the
visible half, as the release's detector would give.
"""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend import landmark_maps as maps
from pymafx_ros.frontend.box_rules import (
    BOX_MARGIN,
    FACE_RESCALE,
    HAND_RESCALE,
    VISIBILITY_GATE,
    box_from_extent,
    box_from_keypoints,
    clamp_centre,
    clip_points,
    fraction_inside,
)
from pymafx_ros.frontend.types import PartBox, PersonDetection

FOUND_PART_MIN_CONFIDENCE = 0.5
# A person's score is the mean visibility of the most visible body keypoints, so that a person
# framed from the waist up scores as high as a whole one.
PERSON_SCORE_TOP_K = 7
# Hand length (wrist to middle fingertip) per forearm length and per shoulder width, from adult
# body proportions; the pose's wrist and elbow of an unseen hand can all but coincide.
HAND_LENGTH_PER_FOREARM = 0.75
HAND_LENGTH_PER_SHOULDER_WIDTH = 0.5
# Extent of the 68-keypoint face region per extent of the pose's ear/eye/mouth landmarks (ears
# sit inside the jaw contour): median over 31 frontal photos against the face mesh (1.08-1.40).
FACE_EXTENT_PER_POSE_FACE = 1.2


def body_box_and_score(pose: np.ndarray, width: int, height: int) -> tuple[PartBox, float] | None:
    """Body box from the 17 COCO keypoints of pose landmarks (33,3) x,y,visibility in pixels,
    and the person score; None when fewer than two keypoints pass the visibility gate."""
    coco = maps.coco_body_keypoints(pose)
    gated = clip_points(coco, width, height)
    gated[:, 2] = np.where(coco[:, 2] > VISIBILITY_GATE, coco[:, 2], 0.0)
    box = box_from_keypoints(gated, rescale=1.0)
    if box is None:
        return None
    top = np.sort(coco[:, 2])[-PERSON_SCORE_TOP_K:]
    return box, float(np.clip(top.mean(), 0.0, 1.0))


def _found_confidence(pose: np.ndarray, anchors: tuple[int, ...]) -> float:
    return max(FOUND_PART_MIN_CONFIDENCE, float(np.clip(pose[list(anchors), 2].mean(), 0.0, 1.0)))


def hand_from_landmarks(
    side: str, pose: np.ndarray, hand: np.ndarray, width: int, height: int
) -> tuple[PartBox, float, np.ndarray]:
    """Box, visibility and keypoints (21,3) of a hand found by the hand model, from its
    landmarks (21,2+) in pixels and the pose landmarks (33,3)."""
    confidence = _found_confidence(pose, maps.POSE_HAND[side])
    points = np.column_stack([hand[:, :2], np.full(len(hand), confidence)])
    box = box_from_keypoints(clip_points(points, width, height), HAND_RESCALE)
    if box is None:
        return guessed_hand_box(side, pose, width, height), 0.0, points
    return box, confidence * fraction_inside(points, width, height), points


def guessed_hand_box(side: str, pose: np.ndarray, width: int, height: int) -> PartBox:
    """Best-guess box of an unseen hand from the pose's wrist, knuckle and elbow landmarks."""
    wrist = pose[maps.POSE_WRIST[side], :2]
    elbow = pose[maps.POSE_ELBOW[side], :2]
    knuckles = pose[list(maps.POSE_HAND[side][1:3]), :2].mean(axis=0)
    shoulders = pose[list(maps.POSE_SHOULDER.values()), :2]
    # The knuckles sit mid-hand, so the hand is twice as long as wrist-to-knuckles.
    length = max(
        2.0 * float(np.linalg.norm(knuckles - wrist)),
        HAND_LENGTH_PER_FOREARM * float(np.linalg.norm(wrist - elbow)),
        HAND_LENGTH_PER_SHOULDER_WIDTH * float(np.linalg.norm(shoulders[0] - shoulders[1])),
    )
    box = PartBox(
        cx=float(knuckles[0]), cy=float(knuckles[1]), size=BOX_MARGIN * HAND_RESCALE * length
    )
    return clamp_centre(box, width, height)


def face_from_mesh(
    pose: np.ndarray, mesh: np.ndarray, width: int, height: int
) -> tuple[PartBox, float, np.ndarray]:
    """Box, visibility and keypoints (468,3) of a face found by the face-mesh model."""
    confidence = _found_confidence(pose, maps.POSE_FACE)
    points = np.column_stack([mesh[:, :2], np.full(len(mesh), confidence)])
    region = clip_points(points[list(maps.face_region_indices())], width, height)
    box = box_from_keypoints(region, FACE_RESCALE)
    if box is None:
        return guessed_face_box(pose, width, height), 0.0, points
    inner = points[list(maps.face_inner_indices())]
    return box, confidence * fraction_inside(inner, width, height), points


def face_from_detection(
    extent: tuple[float, float, float, float],
    score: float,
    keypoints: np.ndarray,
    width: int,
    height: int,
) -> tuple[PartBox, float]:
    """Box and visibility of a face from a face detector's box ``(x0, y0, x1, y1)`` in pixels,
    its score and its keypoints (K,2+); the short-range detector's box spans brows to chin and
    jaw to jaw, the 68-keypoint region."""
    x0, y0, x1, y1 = extent
    x0, x1 = np.clip([x0, x1], 0.0, width - 1.0)
    y0, y1 = np.clip([y0, y1], 0.0, height - 1.0)
    box = box_from_extent(float(x0), float(y0), float(x1), float(y1), FACE_RESCALE)
    return box, float(np.clip(score, 0.0, 1.0)) * fraction_inside(keypoints, width, height)


def guessed_face_box(pose: np.ndarray, width: int, height: int) -> PartBox:
    """Best-guess face box from the pose's eye, ear and mouth landmarks, widened to the jaw."""
    face = clip_points(pose[list(maps.POSE_FACE)], width, height)
    lo, hi = face[:, :2].min(axis=0), face[:, :2].max(axis=0)
    centre = 0.5 * (lo + hi)
    half = 0.5 * FACE_EXTENT_PER_POSE_FACE * float((hi - lo).max())
    box = box_from_extent(
        centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half, FACE_RESCALE
    )
    return clamp_centre(box, width, height)


def assemble_detection(
    body: tuple[PartBox, float],
    hands: dict[str, tuple[PartBox, float]],
    face: tuple[PartBox, float],
    keypoints: dict[str, np.ndarray],
) -> PersonDetection:
    """One person from (box, score/visibility) pairs: body, ``hands['left'/'right']`` and face."""
    return PersonDetection(
        score=body[1],
        body=body[0],
        left_hand=hands["left"][0],
        right_hand=hands["right"][0],
        face=face[0],
        vis_lhand=hands["left"][1],
        vis_rhand=hands["right"][1],
        vis_face=face[1],
        keypoints=keypoints,
    )
