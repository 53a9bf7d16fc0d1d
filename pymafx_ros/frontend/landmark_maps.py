"""Which MediaPipe landmarks stand for the release's body, hand and face keypoints.

Body: the 17 COCO keypoints, picked from MediaPipe's 33 pose landmarks. Face: the release's 68
face keypoints (jaw contour, brows, eyes, nose, mouth; no forehead) have no counterpart list in
the 468-point face mesh, so the face region is the union of the mesh's brow, eye, nose and lip
landmark groups (mediapipe's own ``FACEMESH_*`` sets) and a hand-picked lower face oval from ear
level round the chin (``JAW_CONTOUR``): the bbox of that union spans what the 68 points span.
All left/right names are the person's own sides, as MediaPipe's pose model labels them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# MediaPipe pose landmark index of each COCO keypoint, in COCO order: nose, left/right eye,
# left/right ear, then left/right shoulder, elbow, wrist, hip, knee, ankle.
COCO_FROM_POSE = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
POSE_NOSE = 0
POSE_FACE = tuple(range(11))  # nose, eyes, ears, mouth corners
POSE_SHOULDER = {"left": 11, "right": 12}
POSE_ELBOW = {"left": 13, "right": 14}
POSE_WRIST = {"left": 15, "right": 16}
# wrist, pinky, index and thumb landmarks of each hand in the pose model
POSE_HAND = {"left": (15, 17, 19, 21), "right": (16, 18, 20, 22)}

HAND_WRIST = 0  # first of the 21 hand landmarks

# Face-mesh indices of the lower face oval, from the ear at eye level round the chin to the
# other ear; the upper oval (forehead) is left out because the 68 keypoints stop at the brows.
JAW_CONTOUR = (
    127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
    377, 400, 378, 379, 365, 397, 288, 361, 323, 454, 356,
)  # fmt: skip


@lru_cache(maxsize=1)
def face_inner_indices() -> tuple[int, ...]:
    """Face-mesh indices of the brows, eyes, nose and lips (the release's non-contour points)."""
    from mediapipe.python.solutions import face_mesh_connections as mesh

    groups = (
        mesh.FACEMESH_LEFT_EYEBROW,
        mesh.FACEMESH_RIGHT_EYEBROW,
        mesh.FACEMESH_LEFT_EYE,
        mesh.FACEMESH_RIGHT_EYE,
        mesh.FACEMESH_NOSE,
        mesh.FACEMESH_LIPS,
    )
    return tuple(sorted({index for group in groups for edge in group for index in edge}))


def face_region_indices() -> tuple[int, ...]:
    """Face-mesh indices whose bbox spans the release's 68 face keypoints."""
    return tuple(sorted(set(JAW_CONTOUR) | set(face_inner_indices())))


def coco_body_keypoints(pose: np.ndarray) -> np.ndarray:
    """The 17 COCO keypoints (17,3) from MediaPipe pose landmarks (33,3), x,y,visibility."""
    return np.asarray(pose)[list(COCO_FROM_POSE)]


def landmarks_to_pixels(landmarks: object, width: int, height: int) -> np.ndarray:
    """MediaPipe normalised landmarks -> (N,3) pixel x, y and visibility (0 when absent)."""
    return np.array(
        [(p.x * width, p.y * height, getattr(p, "visibility", 0.0) or 0.0) for p in landmarks],
        dtype=np.float64,
    )
