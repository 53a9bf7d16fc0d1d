"""A small TF buffer: transforms from /tf and /tf_static, looked up at a stamp along the tree.

PyPI has no tf2_ros, so the node keeps its own: per child frame, its parent and a short history
of (stamp, translation, rotation); static transforms hold at every stamp. A lookup walks from
both frames up to their common ancestor, interpolating each dynamic edge between the two
samples around the stamp (linear for translations, slerp for rotations) like tf2, and refuses
a stamp outside an edge's history instead of guessing. Plain numpy/scipy: the node feeds it
from its subscriptions, the offline tools from a recording.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

# How much history each dynamic edge keeps (tf2's default cache is 10 s).
CACHE_NS = 10_000_000_000
# Dynamic frames silent for a whole cache length are forgotten, checked every this many adds.
PRUNE_EVERY = 1000


@dataclass
class _Edge:
    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)  # ns, increasing
    translations: list[np.ndarray] = field(default_factory=list)
    rotations: list[np.ndarray] = field(default_factory=list)  # x, y, z, w


@dataclass(frozen=True)
class Transform:
    """Pose of a source frame in a target frame: ``p_target = rotation @ p_source + t``."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,)

    def __matmul__(self, other: Transform) -> Transform:
        return Transform(
            self.rotation @ other.rotation, self.rotation @ other.translation + self.translation
        )

    def inverse(self) -> Transform:
        return Transform(self.rotation.T, -self.rotation.T @ self.translation)


class TransformUnavailableError(Exception):
    """A transform that cannot be given; the message says which frames and why."""


class TfBuffer:
    """Transforms by child frame; ``add`` from messages, ``lookup`` at a stamp."""

    def __init__(self, cache_ns: int = CACHE_NS) -> None:
        self._edges: dict[str, _Edge] = {}
        self._cache_ns = cache_ns
        self._newest_ns = 0
        self._adds = 0

    def add(
        self,
        parent: str,
        child: str,
        stamp_ns: int,
        translation: np.ndarray,
        rotation_xyzw: np.ndarray,
        static: bool = False,
    ) -> None:
        """Store one transform (the child frame's pose in its parent). A non-finite or zero
        quaternion is ignored: it would poison every lookup through this edge."""
        parent, child = parent.lstrip("/"), child.lstrip("/")
        translation = np.asarray(translation, dtype=np.float64)
        rotation = np.asarray(rotation_xyzw, dtype=np.float64)
        norm = np.linalg.norm(rotation)
        if not (np.isfinite(translation).all() and np.isfinite(norm) and norm > 1e-9):
            return
        edge = self._edges.get(child)
        if edge is None or edge.parent != parent or edge.static != static:
            edge = self._edges[child] = _Edge(parent, static)
        if static:
            edge.stamps, edge.translations, edge.rotations = [0], [translation], [rotation / norm]
            return
        index = bisect.bisect_left(edge.stamps, stamp_ns)
        if index < len(edge.stamps) and edge.stamps[index] == stamp_ns:
            edge.translations[index], edge.rotations[index] = translation, rotation / norm
        else:
            edge.stamps.insert(index, stamp_ns)
            edge.translations.insert(index, translation)
            edge.rotations.insert(index, rotation / norm)
        drop = bisect.bisect_left(edge.stamps, edge.stamps[-1] - self._cache_ns)
        if drop:
            del edge.stamps[:drop], edge.translations[:drop], edge.rotations[:drop]
        self._newest_ns = max(self._newest_ns, stamp_ns)
        self._adds += 1
        if self._adds % PRUNE_EVERY == 0:
            self._prune()

    def _prune(self) -> None:
        """Forget dynamic frames nobody has sent for a whole cache length (people who left,
        whose frames other nodes publish on /tf), so memory stays flat over long runs."""
        oldest = self._newest_ns - self._cache_ns
        for child in [c for c, e in self._edges.items() if not e.static and e.stamps[-1] < oldest]:
            del self._edges[child]

    def lookup(self, target: str, source: str, stamp_ns: int) -> Transform:
        """Pose of ``source`` in ``target`` at ``stamp_ns``; raises
        TransformUnavailableError saying why."""
        target, source = target.lstrip("/"), source.lstrip("/")
        up_source = self._chain(source)
        up_target = self._chain(target)
        common = next((f for f in up_source if f in up_target), None)
        if common is None:
            raise TransformUnavailableError(
                f"no transform between {target!r} and {source!r}: they are not connected in "
                f"TF (known frames: {', '.join(sorted(self.frames())) or 'none'})"
            )
        source_in_common = self._to_ancestor(source, common, stamp_ns)
        target_in_common = self._to_ancestor(target, common, stamp_ns)
        return target_in_common.inverse() @ source_in_common

    def frames(self) -> set[str]:
        """Every frame the buffer has heard of."""
        return set(self._edges) | {edge.parent for edge in self._edges.values()}

    def _chain(self, frame: str) -> list[str]:
        chain = [frame]
        while chain[-1] in self._edges and len(chain) <= len(self._edges):
            chain.append(self._edges[chain[-1]].parent)
        return chain

    def _to_ancestor(self, frame: str, ancestor: str, stamp_ns: int) -> Transform:
        pose = Transform(np.eye(3), np.zeros(3))
        while frame != ancestor:
            edge = self._edges[frame]
            pose = self._edge_at(frame, edge, stamp_ns) @ pose
            frame = edge.parent
        return pose

    @staticmethod
    def _edge_at(child: str, edge: _Edge, stamp_ns: int) -> Transform:
        if edge.static:
            return Transform(
                Rotation.from_quat(edge.rotations[0]).as_matrix(), edge.translations[0]
            )
        stamps = edge.stamps
        if not stamps[0] <= stamp_ns <= stamps[-1]:
            raise TransformUnavailableError(
                f"{edge.parent!r} -> {child!r} is known from {stamps[0] / 1e9:.3f} s to "
                f"{stamps[-1] / 1e9:.3f} s, not at {stamp_ns / 1e9:.3f} s"
            )
        index = bisect.bisect_left(stamps, stamp_ns)
        if stamps[index] == stamp_ns:
            rotation = Rotation.from_quat(edge.rotations[index])
            return Transform(rotation.as_matrix(), edge.translations[index])
        t0, t1 = stamps[index - 1], stamps[index]
        weight = (stamp_ns - t0) / (t1 - t0)
        slerp = Slerp(
            [0.0, 1.0], Rotation.from_quat([edge.rotations[index - 1], edge.rotations[index]])
        )
        translation = (1 - weight) * edge.translations[index - 1] + weight * edge.translations[
            index
        ]
        return Transform(slerp(weight).as_matrix(), translation)
