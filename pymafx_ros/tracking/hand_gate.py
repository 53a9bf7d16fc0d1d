"""Hand-visibility hysteresis: a hand the detector lost for a frame or two keeps the hand expert.

The release switches a wrist between the hand expert (visibility > 0.1) and the body expert's
arm frame by frame, so a hand the palm detector finds every other frame makes the wrist jump.
A hand turns on when its visibility passes ``on_threshold``, and turns off only after
``hold_frames`` frames in a row at or below the release's gate; while held, the model gets the
last good visibility (and the pipeline the track's previous hand box).
"""

from __future__ import annotations

from pymafx_ros.config import HandGateConfig
from pymafx_ros.frontend.box_rules import VISIBILITY_GATE


class HandGate:
    """The on/off state of one hand of one track."""

    def __init__(self, config: HandGateConfig) -> None:
        self._config = config
        self.on = False
        self._last = 0.0
        self._lost = 0

    def __call__(self, visibility: float) -> tuple[float, bool]:
        """(visibility to give the model, whether it is held from an earlier frame)."""
        if visibility > self._config.on_threshold or (self.on and visibility > VISIBILITY_GATE):
            self.on, self._last, self._lost = True, visibility, 0
            return visibility, False
        if self.on:
            self._lost += 1
            if self._lost <= self._config.hold_frames:
                return self._last, True
            self.on = False
        # Off: below the on threshold the model must not use the hand expert either.
        return min(visibility, VISIBILITY_GATE), False
