"""Published quaternions that never flip sign from one frame to the next for the same person.

q and -q are the same rotation; a consumer that filters or interpolates quaternions (and many
retargeting stacks do) sees a jump when a joint's quaternion changes sign between frames. Per
(person id, stream) the last published quaternions are kept and each new one is put on their
hemisphere; a person seen for the first time (or again after a frame away) starts at w >= 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pymafx_ros.tracking.one_euro import same_hemisphere


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
