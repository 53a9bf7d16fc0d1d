"""Tracking options: tracker gates, hand hysteresis and the One Euro smoothing per group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pymafx_ros.config.choices import SMOOTHING_GROUPS
from pymafx_ros.config.options import nested, option, validate


class _Checked:
    """``validate()`` for an options dataclass; ``PREFIX`` starts its option names."""

    PREFIX: ClassVar[str] = ""

    def validate(self, prefix: str | None = None) -> None:
        """Raise ConfigError naming the first bad option (``prefix``: instead of PREFIX)."""
        validate(self, prefix=prefix)


@dataclass
class TrackerConfig(_Checked):
    """Birth, death and matching gates of the tracker."""

    PREFIX: ClassVar[str] = "tracking."

    confirm_frames: int = option(
        2,
        "detections in a row before a new person gets an id and is published (a stream's "
        "first frame confirms at once)",
        low=1,
        high=100,
    )
    max_missed_frames: int = option(
        10,
        "frames an undetected person keeps their id; after that the id ends for good",
        low=0,
        high=1000,
    )
    min_iou: float = option(
        0.2,
        "a detection may continue a track when its body box overlaps the track's predicted "
        "box this much ...",
        low=0.0,
        high=1.0,
    )
    max_keypoint_distance: float = option(
        0.3,
        "... or when the body keypoints lie this close (mean distance per body-box side)",
        low=0.01,
        high=10.0,
    )
    # Not a node parameter: the measured mix; exposed to the Python API for experiments.
    iou_weight: float = option(
        0.5,
        "share of 1 - IoU in the matching cost, the rest is keypoint distance",
        low=0.0,
        high=1.0,
        node=False,
    )


@dataclass
class HandGateConfig(_Checked):
    """Hand hysteresis between the hand expert and the body expert's arm."""

    PREFIX: ClassVar[str] = "tracking.hand_"

    on_threshold: float = option(
        0.3,
        "hand visibility that hands a wrist to the hand expert (it goes back to the body only "
        "after tracking.hand_hold_frames frames unseen)",
        low=0.1,  # the release's visibility gate: below it a hand is never the expert's
        high=1.0,
    )
    hold_frames: int = option(
        3,
        "frames a lost hand stays with the hand expert, its box carried by the track (0 = the "
        "release's frame-by-frame switch)",
        low=0,
        high=100,
    )


@dataclass(frozen=True)
class OneEuroParams(_Checked):
    """One Euro parameters of one group (rotations in rad/s, positions in m/s)."""

    min_cutoff: float = option(
        1.0, "One Euro cutoff (Hz) of a still signal; lower = smoother", low=0.001, high=100.0
    )
    beta: float = option(
        1.0, "cutoff rise per unit of speed; higher = less lag in motion", low=0.0, high=1000.0
    )
    d_cutoff: float = option(1.0, "cutoff (Hz) of the speed estimate", low=0.001, high=100.0)


def _group(name: str) -> OneEuroParams:
    defaults, label = SMOOTHING_GROUPS[name]
    return nested(lambda: OneEuroParams(*defaults), f"{name}.", label)


@dataclass
class SmoothingConfig(_Checked):
    """Which groups are filtered and how (One Euro parameters per group)."""

    PREFIX: ClassVar[str] = "smoothing."

    enable: bool = option(
        True,
        "per-track temporal filter (causal One Euro filters driven by the image stamps); "
        "false publishes each frame's raw estimate",
    )
    average_betas: bool = option(True, "shape: the mean of the betas over the track's life")
    root: OneEuroParams = _group("root")
    body: OneEuroParams = _group("body")
    hands: OneEuroParams = _group("hands")
    face: OneEuroParams = _group("face")
    position: OneEuroParams = _group("position")
    expression: OneEuroParams = _group("expression")


@dataclass
class TrackingConfig(_Checked):
    """Tracker, hand hysteresis and smoothing settings."""

    tracker: TrackerConfig = nested(TrackerConfig, "tracking.")
    hands: HandGateConfig = nested(HandGateConfig, "tracking.hand_")
    smoothing: SmoothingConfig = nested(SmoothingConfig, "smoothing.")
