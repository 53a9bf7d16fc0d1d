"""Motion files for retargeting: one AMASS-layout SMPL-X file per track, in a z-up world.

What humanoid retargeting loads (GMR's ``smplx_to_robot.py``: ``trans``, ``root_orient``,
``pose_body``, ``betas``, ``gender``) plus the rest of AMASS's SMPL-X layout (``pose_hand``,
``pose_jaw``, ``pose_eye``, ``mocap_frame_rate``, ``surface_model_type``). Hand poses are full
axis-angle in smplx's ``flat_hand_mean=True`` convention (as the node publishes them); betas are
our 10 padded with zeros to AMASS's 16 (zeros change nothing).

Re-expressing the root in the world: SMPL-X rotates the body about its rest pelvis J0 and adds
``transl`` afterwards, so the pelvis lands at ``J0 + transl``. In the world the root rotation is
``R_w @ R_root`` and the translation must put the pelvis where the camera-frame pelvis goes:
``trans = R_w @ pelvis_cam + p_w - J0``. J0 is ``joints[0] - transl`` of any frame (it depends on
the betas only, linearly, so the track's mean J0 is J0 of the track's mean betas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.geometry.person import PersonResult

EXPORT_FORMATS = ("amass",)
AMASS_NUM_BETAS = 16
# The default stated camera pose: 1.5 m above the floor, level, looking along the world's +x.
DEFAULT_CAMERA_POSE = "0,0,1.5,0,0,0"
# The optical frame (x right, y down, z forward) in the camera's body frame (x forward, y left,
# z up; REP-103): columns are the optical axes.
OPTICAL_IN_BODY = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def camera_pose(text: str) -> tuple[np.ndarray, np.ndarray]:
    """'x,y,z,roll,pitch,yaw' (m, rad; the camera body frame, x forward and z up, in a z-up
    world) -> rotation (3, 3) and translation (3,) of the camera's optical frame in the world."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"camera pose {text!r}: give six numbers x,y,z,roll,pitch,yaw (metres, radians)"
        )
    body = Rotation.from_euler("xyz", values[3:]).as_matrix()  # roll, pitch, yaw: fixed axes
    return body @ OPTICAL_IN_BODY, np.array(values[:3])


@dataclass
class _Track:
    stamps_ns: list[int] = field(default_factory=list)
    people: list[PersonResult] = field(default_factory=list)
    rotations: list[np.ndarray] = field(default_factory=list)
    translations: list[np.ndarray] = field(default_factory=list)


def amass_arrays(
    people: list[PersonResult],
    rotations: list[np.ndarray],
    translations: list[np.ndarray],
    stamps_ns: list[int],
) -> dict[str, np.ndarray]:
    """One track's T frames in AMASS's SMPL-X layout, each frame moved by its camera pose in
    the world (rotation (3, 3), translation (3,) of the optical frame)."""
    world_r = np.stack(rotations)  # (T, 3, 3)
    world_t = np.stack(translations)  # (T, 3)
    pelvis = np.stack([p.joints[0] for p in people])
    rest_pelvis = np.mean([p.joints[0] - p.transl for p in people], axis=0)
    trans = np.einsum("tij,tj->ti", world_r, pelvis) + world_t - rest_pelvis
    root = Rotation.from_matrix(world_r @ np.stack([p.joint_rotations[0] for p in people]))
    betas = np.zeros(AMASS_NUM_BETAS)
    mean_betas = np.mean([p.betas for p in people], axis=0)
    betas[: len(mean_betas)] = mean_betas
    steps = np.diff(np.asarray(stamps_ns, dtype=np.float64)) / 1e9
    rate = 1.0 / float(np.median(steps)) if len(steps) and np.median(steps) > 0 else 30.0
    return {
        "trans": trans,
        "root_orient": root.as_rotvec(),
        "pose_body": np.stack([p.body_pose for p in people]),
        "pose_hand": np.stack([np.r_[p.left_hand_pose, p.right_hand_pose] for p in people]),
        "pose_jaw": np.stack([p.jaw_pose for p in people]),
        "pose_eye": np.stack([np.r_[p.leye_pose, p.reye_pose] for p in people]),
        "betas": betas,
        "num_betas": np.array(len(mean_betas)),
        "gender": np.array("neutral"),
        "surface_model_type": np.array("smplx"),
        "mocap_frame_rate": np.array(rate),
        "flat_hand_mean": np.array(True),
        "stamps_ns": np.asarray(stamps_ns, dtype=np.int64),
    }  # fmt: skip


class AmassExporter:
    """Collects the people of a sequence per track; ``write`` makes one file per track."""

    def __init__(self, world_frame: str) -> None:
        self.world_frame = world_frame
        self._tracks: dict[str, _Track] = {}
        self.frames_without_pose = 0

    def add(
        self,
        stamp_ns: int,
        people: list[PersonResult],
        rotation: np.ndarray | None,
        translation: np.ndarray | None,
    ) -> None:
        """One frame's people; ``rotation``/``translation`` the optical frame's pose in the
        world at that frame (None when unknown: the frame is counted, not exported)."""
        if rotation is None or translation is None:
            self.frames_without_pose += bool(people)
            return
        for person in people:
            if not person.track_id:
                continue
            track = self._tracks.setdefault(person.track_id, _Track())
            track.stamps_ns.append(int(stamp_ns))
            track.people.append(person)
            track.rotations.append(np.asarray(rotation, dtype=np.float64))
            track.translations.append(np.asarray(translation, dtype=np.float64))

    def write(self, folder: Path) -> list[Path]:
        """``track_<id>.npz`` per track into ``folder``; returns the paths written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for track_id, track in sorted(self._tracks.items()):
            arrays = amass_arrays(
                track.people, track.rotations, track.translations, track.stamps_ns
            )
            arrays["track_id"] = np.array(track_id)
            arrays["world_frame"] = np.array(self.world_frame)
            path = folder / f"track_{track_id}.npz"
            partial = folder / f".{path.name}.partial.npz"
            np.savez(partial, **arrays)
            partial.replace(path)  # a file with the name is always complete
            written.append(path)
        return written
