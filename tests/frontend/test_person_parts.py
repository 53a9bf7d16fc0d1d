"""Boxes and visibilities of one person from synthetic MediaPipe landmarks (pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.frontend import person_parts as parts
from pymafx_ros.frontend.landmark_maps import (
    COCO_FROM_POSE,
    JAW_CONTOUR,
    face_inner_indices,
    face_region_indices,
)

WIDTH, HEIGHT = 640, 480


def frontal_pose(visibility: float = 0.9) -> np.ndarray:
    """(33,3) pose landmarks of an upright person facing the camera, centred at x=320."""
    pose = np.zeros((33, 3))
    pose[:, 2] = visibility
    pose[0:11, :2] = [[320, 60]] * 11
    pose[[2, 7], 0] = [330, 345]  # left eye, left ear: the person's left is the image's right
    pose[[5, 8], 0] = [310, 295]
    for left, right, x, y in [
        (11, 12, 60, 120),  # shoulders
        (13, 14, 70, 200),  # elbows
        (15, 16, 75, 270),  # wrists
        (17, 18, 80, 295),  # pinkies
        (19, 20, 70, 300),  # index fingers
        (21, 22, 65, 290),  # thumbs
        (23, 24, 40, 280),  # hips
        (25, 26, 40, 370),  # knees
        (27, 28, 40, 460),  # ankles
        (29, 30, 40, 470),  # heels
        (31, 32, 45, 475),  # feet
    ]:
        pose[left, :2] = [320 + x, y]
        pose[right, :2] = [320 - x, y]
    return pose


def test_coco_map_takes_the_17_named_landmarks():
    assert len(COCO_FROM_POSE) == 17 and len(set(COCO_FROM_POSE)) == 17
    # COCO pairs (left, right) stay (left, right)
    assert COCO_FROM_POSE[5:7] == (11, 12) and COCO_FROM_POSE[15:17] == (27, 28)


def test_face_region_has_jaw_and_inner_points_but_no_forehead():
    region = set(face_region_indices())
    assert set(JAW_CONTOUR) <= region and set(face_inner_indices()) <= region
    assert 10 not in region  # top of the forehead in the face mesh
    assert {1, 152, 13, 33, 263} <= region  # nose tip, chin, lip, eye corners


def test_body_box_spans_the_visible_keypoints():
    box, score = parts.body_box_and_score(frontal_pose(), WIDTH, HEIGHT)
    # COCO extent: x 250..390 (shoulders/wrists), y 60..460 (nose..ankles)
    assert (box.cx, box.cy) == pytest.approx((320.0, 260.0))
    assert box.size == pytest.approx(1.2 * 400.0)
    assert score == pytest.approx(0.9)


def test_hidden_keypoints_do_not_count_and_outside_ones_are_clipped():
    pose = frontal_pose()
    pose[[25, 26, 27, 28], 2] = 0.05  # legs not visible
    pose[[15, 16], 1] = 700.0  # wrists below the frame
    box, score = parts.body_box_and_score(pose, WIDTH, HEIGHT)
    assert box.cy - box.size / 2 < 60 and box.cy == pytest.approx((60 + 479) / 2)
    assert score == pytest.approx(0.9)  # the most visible keypoints decide


def test_a_person_with_one_visible_keypoint_has_no_box():
    pose = frontal_pose(visibility=0.0)
    pose[0, 2] = 1.0
    assert parts.body_box_and_score(pose, WIDTH, HEIGHT) is None


def test_found_hand_box_and_visibility_follow_the_landmarks():
    hand = np.column_stack([np.linspace(380, 420, 21), np.linspace(270, 330, 21)])
    box, vis, keypoints = parts.hand_from_landmarks("left", frontal_pose(), hand, WIDTH, HEIGHT)
    assert (box.cx, box.cy, box.size) == pytest.approx((400, 300, 1.2 * 60 * 1.2))
    assert vis == pytest.approx(0.9)  # pose visibility of the hand, above the 0.5 floor
    assert keypoints.shape == (21, 3)


def test_found_hand_half_outside_the_image_loses_half_its_visibility():
    pose = frontal_pose(visibility=0.2)
    hand = np.column_stack([np.linspace(600, 680, 20), np.full(20, 300.0)])
    box, vis, _ = parts.hand_from_landmarks("left", pose, hand, WIDTH, HEIGHT)
    assert vis == pytest.approx(parts.FOUND_PART_MIN_CONFIDENCE * 0.5)
    assert box.cx == pytest.approx((600 + 639) / 2)


def test_guessed_hand_box_sits_at_the_knuckles_of_its_side():
    pose = frontal_pose()
    left = parts.guessed_hand_box("left", pose, WIDTH, HEIGHT)
    right = parts.guessed_hand_box("right", pose, WIDTH, HEIGHT)
    assert (left.cx, left.cy) == pytest.approx((320 + 75, 297.5))
    assert (right.cx, right.cy) == pytest.approx((320 - 75, 297.5))
    # the longest hand estimate wins: half the shoulder width (60 px) beats twice the
    # wrist-knuckle distance (55) and 0.75 forearm (52.6)
    assert left.size == pytest.approx(1.2 * 1.2 * 60)
    pose[[15, 16], 1] = 310.0  # longer forearms now win
    assert parts.guessed_hand_box("left", pose, WIDTH, HEIGHT).size == pytest.approx(
        1.44 * 0.75 * np.hypot(5, 110)
    )


def test_guessed_hand_box_of_a_collapsed_arm_keeps_a_usable_size():
    pose = frontal_pose()
    pose[[13, 15, 17, 19, 21], :2] = [380, 200]
    box = parts.guessed_hand_box("left", pose, WIDTH, HEIGHT)
    assert box.size == pytest.approx(1.44 * 0.5 * 120)


def test_guessed_boxes_stay_in_the_image():
    pose = frontal_pose()
    pose[:, 1] += 400  # everything but the head below the frame
    box = parts.guessed_hand_box("right", pose, WIDTH, HEIGHT)
    assert box.cy == HEIGHT - 1


def test_face_from_mesh_uses_the_region_and_inner_visibility():
    mesh = np.zeros((468, 2))
    mesh[:] = [320, 60]
    mesh[list(JAW_CONTOUR)] = np.column_stack(
        [np.linspace(290, 350, len(JAW_CONTOUR)), np.linspace(50, 100, len(JAW_CONTOUR))]
    )
    mesh[10] = [320, 0]  # forehead point far up: must not count
    box, vis, keypoints = parts.face_from_mesh(frontal_pose(), mesh, WIDTH, HEIGHT)
    assert (box.cx, box.cy, box.size) == pytest.approx((320, 75, 1.2 * 60 * 1.4))
    assert vis == pytest.approx(0.9) and keypoints.shape == (468, 3)


def test_face_from_detection_clips_and_scales_by_its_score():
    keypoints = np.array([[10.0, 10.0], [-5.0, 10.0]])
    box, vis = parts.face_from_detection((-20, 0, 40, 50), 0.8, keypoints, WIDTH, HEIGHT)
    assert (box.cx, box.cy, box.size) == pytest.approx((20, 25, 1.2 * 50 * 1.4))
    assert vis == pytest.approx(0.4)


def test_guessed_face_box_covers_the_head_landmarks():
    box = parts.guessed_face_box(frontal_pose(), WIDTH, HEIGHT)
    assert (box.cx, box.cy) == pytest.approx((320, 60))
    assert box.size == pytest.approx(1.2 * 1.4 * parts.FACE_EXTENT_PER_POSE_FACE * 50)
