"""Vertex-clustering decimation of the SMPL-X mesh for RViz and the overlay.

The clustering (which vertex goes to which cell, which faces survive) is computed once from a
reference mesh and then reused for every frame, so the decimated topology never flickers; per
frame only the cluster centres are averaged. Unlike dropping faces, the result stays closed.
"""

from __future__ import annotations

import numpy as np


def _cluster(vertices: np.ndarray, faces: np.ndarray, cell: float):
    keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    _, labels = np.unique(keys, axis=0, return_inverse=True)
    labels = labels.reshape(-1)
    mapped = labels[faces]
    alive = (
        (mapped[:, 0] != mapped[:, 1])
        & (mapped[:, 1] != mapped[:, 2])
        & (mapped[:, 0] != mapped[:, 2])
    )
    mapped = mapped[alive]
    # Two faces collapsing onto the same three clusters would be drawn twice: keep the first.
    _, first = np.unique(np.sort(mapped, axis=1), axis=0, return_index=True)
    return labels, mapped[np.sort(first)]


class MeshDecimator:
    """Keeps about ``keep_fraction`` of the faces of meshes sharing ``faces``' topology."""

    def __init__(self, reference_vertices: np.ndarray, faces: np.ndarray, keep_fraction: float):
        """reference_vertices (V, 3) metres, faces (F, 3) int; keep_fraction in (0, 1]."""
        if not 0.0 < keep_fraction <= 1.0:
            raise ValueError(f"keep_fraction must lie in (0, 1], got {keep_fraction}")
        faces = np.asarray(faces, dtype=np.int64)
        num_vertices = len(reference_vertices)
        self._identity = keep_fraction >= 1.0
        if self._identity:
            self.labels = np.arange(num_vertices)
            self.faces = faces
        else:
            self.labels, self.faces = self._search(reference_vertices, faces, keep_fraction)
        self.num_clusters = int(self.labels.max()) + 1 if num_vertices else 0
        self._counts = np.maximum(np.bincount(self.labels, minlength=self.num_clusters), 1)

    @staticmethod
    def _search(vertices: np.ndarray, faces: np.ndarray, keep_fraction: float):
        target = keep_fraction * len(faces)
        extent = float(np.ptp(vertices, axis=0).max()) or 1.0
        low, high = extent * 1e-4, extent  # cell sizes: keeps nearly all faces / nearly none
        best = _cluster(vertices, faces, low)
        for _ in range(18):
            cell = np.sqrt(low * high)
            labels, kept = _cluster(vertices, faces, cell)
            if len(kept) >= target:
                low, best = cell, (labels, kept)
            else:
                high = cell
        return best

    def centres(self, vertices: np.ndarray) -> np.ndarray:
        """(V, 3) vertices of one mesh -> (C, 3) cluster centres (the decimated vertices)."""
        if self._identity:
            return np.asarray(vertices, dtype=np.float64)
        sums = np.stack(
            [np.bincount(self.labels, vertices[:, d], self.num_clusters) for d in range(3)],
            axis=1,
        )
        return sums / self._counts[:, None]

    def triangles(self, vertices: np.ndarray) -> np.ndarray:
        """(V, 3) vertices -> (F', 3, 3) corner positions of the decimated triangles."""
        return self.centres(vertices)[self.faces]
