"""RViz markers per person: one TRIANGLE_LIST mesh, one LINE_LIST skeleton and a text label.

One big marker per person and kind (RViz draws few large markers far faster than many small
ones); a stable colour per id; explicit DELETEs for people who disappeared, so nothing lingers.
The builder returns MarkerSpecs; ``marker_cdr`` turns them into MarkerArray bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from pymafx_ros.geometry.body_frames import SMPLX_TO_BODY
from pymafx_ros.geometry.mesh_decimation import MeshDecimator
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.ros.marker_cdr import MarkerSpec

NAMESPACES = ("mesh", "skeleton", "label")
HEAD_JOINT = 15  # SMPL-X "head"


def id_number(person_id: str) -> int:
    """A stable non-negative int32 for a track id (marker ids, colours): n for ``p<n>``, else
    a hash."""
    if person_id.startswith("p") and person_id[1:].isdigit():
        return int(person_id[1:]) & 0x7FFFFFFF
    return zlib.crc32(person_id.encode()) & 0x7FFFFFFF


# Colour-blind-friendly palette (Okabe-Ito), cycled by the id's number.
PALETTE = (
    (0.90, 0.62, 0.00),
    (0.34, 0.71, 0.91),
    (0.00, 0.62, 0.45),
    (0.94, 0.89, 0.26),
    (0.00, 0.45, 0.70),
    (0.84, 0.37, 0.00),
    (0.80, 0.47, 0.65),
)
SKELETON_WIDTH_M = 0.015
LABEL_HEIGHT_M = 0.08
LABEL_ABOVE_HEAD_M = 0.25


def colour_rgb(person_id: str) -> tuple[float, float, float]:
    """The colour of a person id (stable for the id's lifetime)."""
    return PALETTE[id_number(person_id) % len(PALETTE)]


def _colour(person_id: str, alpha: float) -> tuple[float, float, float, float]:
    return (*colour_rgb(person_id), alpha)


def _marker(header: Header, ns: str, number: int, kind: int, **fields) -> MarkerSpec:
    stamp = (int(header.stamp.sec), int(header.stamp.nanosec))
    return MarkerSpec(stamp, header.frame_id, ns, number, kind, Marker.ADD, **fields)


def skeleton_segments(joints: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """(J, 3) joints -> (2 * bones, 3) LINE_LIST points, each bone child -> parent."""
    pairs = [(j, p) for j, p in enumerate(parents[: len(joints)]) if p >= 0]
    index = np.array(pairs, dtype=np.int64).reshape(-1)
    return np.asarray(joints)[index]


def label_position(person: PersonResult) -> np.ndarray:
    """A point above the head along the person's own up axis (camera frame)."""
    up = (person.joint_rotations[0] @ SMPLX_TO_BODY)[:, 2]
    return person.joints[HEAD_JOINT] + LABEL_ABOVE_HEAD_M * up


class MarkerBuilder:
    """Builds the MarkerArray of a frame; remembers who was shown to DELETE them later."""

    def __init__(self, faces: np.ndarray, joint_parents: Sequence[int], mesh_fraction: float):
        """faces (F, 3) SMPL-X triangles; mesh_fraction of them kept (0 = no mesh marker)."""
        self._faces = np.asarray(faces, dtype=np.int64)
        self._parents = list(joint_parents)
        self._mesh_fraction = mesh_fraction
        self.decimator: MeshDecimator | None = None
        self._shown: set[str] = set()

    def mesh_decimator(self, vertices: np.ndarray) -> MeshDecimator:
        """The decimation, computed from the first mesh seen and reused afterwards."""
        if self.decimator is None:
            self.decimator = MeshDecimator(vertices, self._faces, self._mesh_fraction)
        return self.decimator

    def build(
        self, header: Header, people: Sequence[PersonResult], ids: Sequence[str]
    ) -> list[MarkerSpec]:
        """Markers of ``people`` plus DELETEs for ids shown before and absent now."""
        markers: list[MarkerSpec] = []
        for person, person_id in zip(people, ids, strict=True):
            markers.extend(self._person_markers(header, person, person_id))
        for gone in sorted(self._shown - set(ids)):
            for ns in NAMESPACES:
                marker = _marker(header, ns, id_number(gone), Marker.CUBE)
                marker.action = Marker.DELETE
                markers.append(marker)
        self._shown = set(ids)
        return markers

    def delete_all(self, header: Header) -> list[MarkerSpec]:
        """One DELETEALL (sent when the node stops, so RViz keeps no stale bodies)."""
        self._shown = set()
        marker = _marker(header, "", 0, Marker.CUBE)
        marker.action = Marker.DELETEALL
        return [marker]

    def _person_markers(self, header: Header, person: PersonResult, person_id: str):
        number = id_number(person_id)
        if self._mesh_fraction > 0.0 and person.vertices is not None:
            triangles = self.mesh_decimator(person.vertices).triangles(person.vertices)
            yield _marker(
                header,
                "mesh",
                number,
                Marker.TRIANGLE_LIST,
                color=_colour(person_id, 0.8),
                points=triangles.reshape(-1, 3),
            )
        yield _marker(
            header,
            "skeleton",
            number,
            Marker.LINE_LIST,
            scale=(SKELETON_WIDTH_M, 0.0, 0.0),
            color=_colour(person_id, 1.0),
            points=skeleton_segments(person.joints, self._parents),
        )
        yield _marker(
            header,
            "label",
            number,
            Marker.TEXT_VIEW_FACING,
            position=tuple(label_position(person).tolist()),
            scale=(0.0, 0.0, LABEL_HEIGHT_M),
            text=person_id,
        )
