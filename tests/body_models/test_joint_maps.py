"""Keypoint index tables: sizes, ranges and the smplx names they are derived from."""

from __future__ import annotations

from smplx.joint_names import JOINT_NAMES

from pymafx_ros.body_models import joint_maps as jm


def test_spin_joints_index_the_54_point_stack():
    assert len(jm.SPIN_JOINTS) == 49 and len(set(jm.SPIN_JOINT_NAMES)) == 49
    assert len(jm.SMPLX_TO_SMPL45) == 45
    assert all(0 <= i < 45 + 9 for i in jm.SPIN_FROM_STACK)
    # the 24 SPIN ground-truth joints start with the right ankle (SMPL joint 8)
    assert jm.SPIN_JOINTS[25] == ("Right Ankle", 8)


def test_hand_and_foot_maps_follow_smplx_names():
    assert len(jm.HAND_KEYPOINT_NAMES) == 21
    assert jm.HAND_KEYPOINT_NAMES[:5] == ("wrist", "thumb1", "thumb2", "thumb3", "thumb")
    for table, side in ((jm.LHAND_FROM_SMPLX, "left"), (jm.RHAND_FROM_SMPLX, "right")):
        assert [JOINT_NAMES[i] for i in table] == [f"{side}_{n}" for n in jm.HAND_KEYPOINT_NAMES]
    assert [JOINT_NAMES[i] for i in jm.LFOOT_FROM_SMPLX] == [
        "left_big_toe",
        "left_small_toe",
        "left_heel",
    ]
    assert jm.LHAND_FROM_SMPLX[0] == 20 and jm.RHAND_FROM_SMPLX[0] == 21  # the wrists


def test_projection_layout_has_165_points():
    assert jm.NUM_KP2D == 165
    assert jm.NUM_SMPLX_OUTPUT_JOINTS == len(JOINT_NAMES) == 144
    assert sorted(jm.MANO_TO_HAND_KEYPOINTS) == list(range(21))
