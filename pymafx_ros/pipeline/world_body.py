"""The body in a gravity-aligned world frame, in the form GMR retargets: per SMPL-X joint name,
a global position and a (w, x, y, z) quaternion.

The camera-to-world transform comes from outside (TF in the node): a single image says nothing
about gravity. Each joint's quaternion is its global SMPL-X rotation (the joint's SMPL-X axes,
x left, y up, z forward in the rest pose) expressed in the world frame, as GMR computes it from
SMPL-X parameters; positions are the joints moved into the world frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.geometry.person import PersonResult


@dataclass
class WorldBody:
    """One person in the world frame: (55, 3) positions (m) and (55, 4) quaternions w, x, y, z."""

    positions: np.ndarray
    quaternions_wxyz: np.ndarray


def body_in_world(
    person: PersonResult, rotation: np.ndarray, translation: np.ndarray
) -> WorldBody:
    """``person`` moved by the camera's pose in the world (``rotation`` (3, 3) and
    ``translation`` (3,) of the camera optical frame in the world frame)."""
    rotation = np.asarray(rotation, dtype=np.float64)
    positions = person.joints @ rotation.T + np.asarray(translation, dtype=np.float64)
    global_rotations = rotation[None] @ person.joint_rotations
    quaternions = Rotation.from_matrix(global_rotations).as_quat(scalar_first=True)
    # One hemisphere (w >= 0), so a consumer comparing frames never sees a sign flip.
    quaternions[quaternions[:, 0] < 0] *= -1.0
    return WorldBody(positions=positions, quaternions_wxyz=quaternions)


def world_body_to_dict(
    body: WorldBody, joint_names: tuple[str, ...], person_id: str
) -> dict[str, object]:
    """GMR's form: {joint name: [position xyz, quaternion wxyz]} plus the person id."""
    return {
        "person_id": person_id,
        "joints": {
            name: [p.tolist(), q.tolist()]
            for name, p, q in zip(joint_names, body.positions, body.quaternions_wxyz, strict=True)
        },
    }
