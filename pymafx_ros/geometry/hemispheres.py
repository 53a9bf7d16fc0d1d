"""Published quaternions that never flip sign from one frame to the next for the same person.

q and -q are the same rotation; a consumer that filters or interpolates quaternions (and many
retargeting stacks do) sees a jump when a joint's quaternion changes sign between frames. Per
(person id, stream) the last published quaternions are kept and each new one is put on their
hemisphere; a person seen for the first time (or again after a frame away) starts at w >= 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Hemispheres:
    """The last published quaternions per key (e.g. ("joints", "p1"))."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], np.ndarray] = {}

    def keep(self, key: tuple[str, str], quaternions_xyzw: np.ndarray) -> np.ndarray:
        """(N, 4) x, y, z, w quaternions on the hemispheres of the key's last ones."""
        quaternions = same_hemisphere(
            np.array(quaternions_xyzw, dtype=np.float64), self._last.get(key)
        )
        self._last[key] = quaternions
        return quaternions

    def retain(self, ids: Iterable[str]) -> None:
        """Forget every person not in ``ids`` (call once per frame with its people)."""
        keep = set(ids)
        self._last = {k: v for k, v in self._last.items() if k[1] in keep}


def same_hemisphere(quaternions: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Unit quaternions (N, 4) x, y, z, w, each negated where needed to lie on the previous
    one's hemisphere (w >= 0 without a previous one), so consumers interpolating them never
    turn the long way."""
    quaternions = quaternions / np.linalg.norm(quaternions, axis=-1, keepdims=True)
    if previous is None or previous.shape != quaternions.shape:
        reference = np.zeros_like(quaternions)
        reference[:, 3] = 1.0
    else:
        reference = previous
    flip = np.sum(quaternions * reference, axis=-1) < 0
    quaternions[flip] *= -1.0
    return quaternions
