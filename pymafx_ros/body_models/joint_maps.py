"""Joint and keypoint index tables of PyMAF-X full-body inference (facts of the v1.1 release).

Keypoint orders here fix the layout of every 2D/3D output; the hand/foot tables are derived from
smplx's joint names, so they follow the installed smplx exactly.
"""

from __future__ import annotations

from smplx.joint_names import JOINT_NAMES as _SMPLX_OUTPUT_NAMES

# The 55 kinematic joints of SMPL-X (smplx returns 144 points: these, 21 vertex joints, 68 face
# landmarks).
SMPLX_JOINT_NAMES: tuple[str, ...] = tuple(_SMPLX_OUTPUT_NAMES[:55])
NUM_SMPLX_OUTPUT_JOINTS = 55 + 21 + 68

# SMPL-like 45-joint set picked from the SMPL-X output: body joints 0..21, left/right index1
# standing in for SMPL's hand joints 22, 23, then the 21 vertex joints (nose ... right_pinky).
SMPLX_TO_SMPL45: tuple[int, ...] = (*range(22), 30, 45, *range(55, 76))

# The 49 SPIN/OpenPose joints. Indices point into the 54-point stack
# [45 joints of SMPLX_TO_SMPL45, 9 joints of J_regressor_extra on the SMPL-topology mesh].
SPIN_JOINTS: tuple[tuple[str, int], ...] = (
    ("OP Nose", 24),
    ("OP Neck", 12),
    ("OP RShoulder", 17),
    ("OP RElbow", 19),
    ("OP RWrist", 21),
    ("OP LShoulder", 16),
    ("OP LElbow", 18),
    ("OP LWrist", 20),
    ("OP MidHip", 0),
    ("OP RHip", 2),
    ("OP RKnee", 5),
    ("OP RAnkle", 8),
    ("OP LHip", 1),
    ("OP LKnee", 4),
    ("OP LAnkle", 7),
    ("OP REye", 25),
    ("OP LEye", 26),
    ("OP REar", 27),
    ("OP LEar", 28),
    ("OP LBigToe", 29),
    ("OP LSmallToe", 30),
    ("OP LHeel", 31),
    ("OP RBigToe", 32),
    ("OP RSmallToe", 33),
    ("OP RHeel", 34),
    ("Right Ankle", 8),
    ("Right Knee", 5),
    ("Right Hip", 45),
    ("Left Hip", 46),
    ("Left Knee", 4),
    ("Left Ankle", 7),
    ("Right Wrist", 21),
    ("Right Elbow", 19),
    ("Right Shoulder", 17),
    ("Left Shoulder", 16),
    ("Left Elbow", 18),
    ("Left Wrist", 20),
    ("Neck (LSP)", 47),
    ("Top of Head (LSP)", 48),
    ("Pelvis (MPII)", 49),
    ("Thorax (MPII)", 50),
    ("Spine (H36M)", 51),
    ("Jaw (H36M)", 52),
    ("Head (H36M)", 53),
    ("Nose", 24),
    ("Left Eye", 26),
    ("Right Eye", 25),
    ("Left Ear", 28),
    ("Right Ear", 27),
)
SPIN_JOINT_NAMES: tuple[str, ...] = tuple(name for name, _ in SPIN_JOINTS)
SPIN_FROM_STACK: tuple[int, ...] = tuple(index for _, index in SPIN_JOINTS)

# 21 hand keypoints: wrist, then per finger (thumb, index, middle, ring, pinky) 3 joints + tip.
HAND_KEYPOINT_NAMES: tuple[str, ...] = (
    "wrist",
    *(
        f"{finger}{suffix}"
        for finger in ("thumb", "index", "middle", "ring", "pinky")
        for suffix in ("1", "2", "3", "")
    ),
)
FOOT_KEYPOINT_NAMES: tuple[str, ...] = ("big_toe", "small_toe", "heel")
NUM_FACE_LANDMARKS = 68  # 51 static + 17 contour, the last 68 smplx outputs


def _smplx_output_index(name: str) -> int:
    return _SMPLX_OUTPUT_NAMES.index(name)


LHAND_FROM_SMPLX = tuple(_smplx_output_index(f"left_{n}") for n in HAND_KEYPOINT_NAMES)
RHAND_FROM_SMPLX = tuple(_smplx_output_index(f"right_{n}") for n in HAND_KEYPOINT_NAMES)
LFOOT_FROM_SMPLX = tuple(_smplx_output_index(f"left_{n}") for n in FOOT_KEYPOINT_NAMES)
RFOOT_FROM_SMPLX = tuple(_smplx_output_index(f"right_{n}") for n in FOOT_KEYPOINT_NAMES)

# Layout of the 165 points PyMAF-X projects to 2D (in this order).
KP2D_LAYOUT: tuple[tuple[str, int], ...] = (
    ("body", len(SPIN_JOINTS)),
    ("lhand", 21),
    ("rhand", 21),
    ("face", NUM_FACE_LANDMARKS),
    ("lfoot", 3),
    ("rfoot", 3),
)
NUM_KP2D = sum(count for _, count in KP2D_LAYOUT)

# MANO: fingertip vertices appended to the 16 MANO joints (thumb, index, middle, ring, pinky),
# then the 21 points reordered to the HAND_KEYPOINT_NAMES order.
MANO_TIP_VERTICES: tuple[int, ...] = (745, 317, 445, 556, 673)
MANO_TO_HAND_KEYPOINTS: tuple[int, ...] = (
    0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20,
)  # fmt: skip
