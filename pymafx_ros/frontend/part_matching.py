"""Give hands and faces found in the whole frame to the people whose pose they fit best."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match_by_distance(
    anchors: np.ndarray, candidates: np.ndarray, radii: np.ndarray
) -> dict[int, int]:
    """One-to-one matching of anchors (A,2) to candidates (C,2), pixels, minimising the total
    distance; a pair farther apart than the candidate's radius (C,) is never made.

    Returns {anchor index: candidate index}.
    """
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    candidates = np.asarray(candidates, dtype=np.float64).reshape(-1, 2)
    if len(anchors) == 0 or len(candidates) == 0:
        return {}
    distance = np.linalg.norm(anchors[:, None, :] - candidates[None, :, :], axis=-1)
    allowed = distance <= np.asarray(radii, dtype=np.float64)[None, :]
    # Forbidden pairs get a cost above any allowed total so the solver never prefers them.
    cost = np.where(allowed, distance, distance.max() * (len(anchors) + len(candidates)) + 1.0)
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if allowed[r, c]}
