"""The 55 SMPL-X kinematic joints: names (smplx's order) and their fixed parent tree."""

from __future__ import annotations

from smplx.joint_names import JOINT_NAMES

from pymafx_ros.geometry.person import NUM_JOINTS

SMPLX_JOINT_NAMES: tuple[str, ...] = tuple(JOINT_NAMES[:NUM_JOINTS])

# The kintree of every SMPL-X model file (row 0 of ``kintree_table``); -1 marks the root.
SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,  # body 0..21
    15, 15, 15,  # jaw, left eye, right eye
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,  # left hand 25..39
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,  # right hand 40..54
)  # fmt: skip

# Where each SMPL-X parameter block sits among the 55 joints.
BODY_JOINTS = slice(1, 22)
JAW, LEFT_EYE, RIGHT_EYE = 22, 23, 24
LEFT_HAND_JOINTS = slice(25, 40)
RIGHT_HAND_JOINTS = slice(40, 55)
