"""Joint frames of a person: SMPL-X rotations turned into REP-155 body axes, and the tree.

SMPL-X's canonical axes are x = the person's left, y = up, z = forward; REP-155 body frames are
x = forward, y = left, z = up. Every joint frame is its global SMPL-X rotation composed with that
fixed axis change, so in the rest pose all joint frames are aligned with ``body_<id>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

# Columns: the body frame's x, y, z axes written in SMPL-X canonical coordinates.
SMPLX_TO_BODY = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])

# SMPL-X kinematic joints published for each ``tf.joints`` choice: 0-21 body, 22 jaw,
# 23-24 eyes, 25-39 left hand, 40-54 right hand.
JOINT_SETS: dict[str, tuple[int, ...]] = {
    "body": tuple(range(22)),
    "body_hands": tuple(range(22)) + tuple(range(25, 55)),
    "all": tuple(range(55)),
}


def body_orientations(joint_rotations: np.ndarray) -> np.ndarray:
    """(J, 3, 3) global SMPL-X rotations (camera frame) -> (J, 3, 3) joint frame rotations."""
    return joint_rotations @ SMPLX_TO_BODY


def quaternions_xyzw(rotations: np.ndarray) -> np.ndarray:
    """(J, 3, 3) rotation matrices -> (J, 4) unit quaternions x, y, z, w (w >= 0)."""
    quats = Rotation.from_matrix(rotations).as_quat()
    return quats * np.where(quats[:, 3:4] < 0.0, -1.0, 1.0)


def published_parents(parents: Sequence[int], indices: Sequence[int]) -> list[int]:
    """For each joint in ``indices``, its nearest ancestor in ``indices`` (-1 for the root)."""
    included = set(indices)
    out = []
    for joint in indices:
        parent = parents[joint]
        while parent >= 0 and parent not in included:
            parent = parents[parent]
        out.append(parent)
    return out


def local_transforms(
    positions: np.ndarray,
    orientations: np.ndarray,
    parents: Sequence[int],
    indices: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Each listed joint's frame relative to its published parent.

    positions (J, 3) and orientations (J, 3, 3) are in the camera frame. Returns translations
    (K, 3) and rotations (K, 3, 3) for the K listed joints; the root (parent -1) is expressed
    relative to ``body_<id>``, which coincides with the root joint's frame, so it is identity
    when the root is joint 0.
    """
    root = indices[0]
    parent_of = published_parents(parents, indices)
    translations = np.zeros((len(indices), 3))
    rotations = np.zeros((len(indices), 3, 3))
    for k, (joint, parent) in enumerate(zip(indices, parent_of, strict=True)):
        base = root if parent < 0 else parent
        base_rot = orientations[base]
        translations[k] = base_rot.T @ (positions[joint] - positions[base])
        rotations[k] = base_rot.T @ orientations[joint]
    return translations, rotations
