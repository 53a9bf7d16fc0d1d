"""The front end's interface: part boxes, one detected person, and the detector protocol.

Boxes are square, as the release crops them (shared README §3): a centre and a side length in
image pixels, where ``size = 200 * scale`` of the release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class PartBox:
    """Square box of the release: centre and side length in image pixels."""

    cx: float
    cy: float
    size: float  # side length in px = 200 * the release's "scale"


@dataclass
class PersonDetection:
    """One person: body and part boxes, part visibilities in [0, 1] and optional raw landmarks.

    Left/right are the person's own sides. Hand and face boxes are always set (a best guess when
    the part is unseen); the visibilities say whether to trust them, like the release's
    ``vis_lhand``/``vis_rhand`` inputs (gated at 0.1).
    """

    score: float  # [0,1]
    body: PartBox
    left_hand: PartBox  # person's own left; always a best-guess box, even when unseen
    right_hand: PartBox
    face: PartBox
    vis_lhand: float  # [0,1], like the release's vis_lhand input (gate at 0.1)
    vis_rhand: float
    vis_face: float
    # optional raw landmarks in pixels, (N,3) x,y,conf: 'body','left_hand','right_hand','face'
    keypoints: dict[str, np.ndarray] = field(default_factory=dict)


class PersonDetector(Protocol):
    """Anything that turns an RGB frame into people; ``close`` frees native resources."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PersonDetection]:
        """Detect people in ``rgb`` (H,W,3) uint8 RGB; ``timestamp_ms`` orders video frames."""
        ...

    def close(self) -> None:
        """Release the detector's resources; it must not be used afterwards."""
        ...


@runtime_checkable
class LooksAgain(Protocol):
    """A detector that can be told where tracked people should be in its next frame."""

    def expect_people(self, bodies: Sequence[PartBox]) -> None:
        """Body boxes (px) where the live tracks predict people in the next ``detect`` frame."""
        ...
