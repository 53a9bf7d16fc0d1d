"""Person tracks across frames: one-to-one assignment on body-box overlap and keypoint distance.

Each frame's detections are matched to the tracks' predicted boxes (constant velocity in image
space, from the stamps) by ``scipy.optimize.linear_sum_assignment`` on a cost mixing 1 - IoU and
the mean distance of the shared body keypoints per body size; pairs past both gates are never
made. Hungarian assignment on a handful of people costs microseconds, and a tracking library
(norfair, motpy, ByteTrack ports) would add dependencies for what is these few lines, without
the keypoints. A new track is confirmed after ``confirm_frames`` detections in a row (at once on
the first frame of a sequence), a lost one is kept ``max_missed_frames`` frames, and ids
(``p1``, ``p2``, ... REP-155 syntax, given at confirmation) are never reused within a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from pymafx_ros.config import TrackerConfig
from pymafx_ros.frontend.box_rules import VISIBILITY_GATE, square_iou
from pymafx_ros.frontend.types import PartBox

# A stamp gap longer than this (or a stamp going back) starts a new sequence: nobody is
# followed across it, and every track ends.
MAX_SEQUENCE_GAP_S = 5.0
# Velocity estimates are smoothed this much per update (1 = last displacement only).
VELOCITY_GAIN = 0.5


@dataclass
class Observation:
    """One detected person: square body box (px) and optional body keypoints (K, 3) x, y, conf."""

    box: PartBox
    keypoints: np.ndarray | None = None


@dataclass
class Track:
    """A person followed across frames."""

    number: int  # internal, unique per tracker
    box: PartBox
    keypoints: np.ndarray | None
    stamp_s: float | None
    track_id: str = ""  # "" while tentative
    hits: int = 1  # detections in a row
    age_frames: int = 1  # frames since birth
    missed: int = 0  # frames since last matched
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))  # d(cx, cy, size)/dt px/s

    @property
    def confirmed(self) -> bool:
        return bool(self.track_id)

    def predicted(self, stamp_s: float | None) -> tuple[PartBox, np.ndarray]:
        """Box and keypoint offset (2,) px expected at ``stamp_s`` under constant velocity."""
        if stamp_s is None or self.stamp_s is None:
            return self.box, np.zeros(2)
        dx, dy, ds = self.velocity * (stamp_s - self.stamp_s)
        size = max(self.box.size + ds, 0.5 * self.box.size)
        return PartBox(self.box.cx + dx, self.box.cy + dy, size), np.array([dx, dy])


class Tracker:
    """Assigns track ids to each frame's observations; call :meth:`update` once per frame."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.config.validate()
        self.tracks: list[Track] = []
        self._last_stamp_s: float | None = None
        self._next_number = 1
        self._next_id = 1

    def continues(self, stamp_s: float) -> bool:
        """True when a frame at ``stamp_s`` continues the current sequence (its tracks live)."""
        last = self._last_stamp_s
        return last is not None and 0 < stamp_s - last <= MAX_SEQUENCE_GAP_S

    def update(
        self, observations: list[Observation], stamp_s: float | None
    ) -> tuple[list[Track | None], list[Track]]:
        """Match a frame's observations; returns (the track of each observation, tracks that
        ended). ``stamp_s`` None: an independent still image, every observation is a new
        confirmed track and all earlier tracks end."""
        ended: list[Track] = []
        new_sequence = stamp_s is None or not self.continues(stamp_s)
        if new_sequence:
            ended, self.tracks = self.tracks, []
        self._last_stamp_s = stamp_s
        matches = self._match(observations, stamp_s)
        result: list[Track | None] = [None] * len(observations)
        matched_tracks = set()
        for obs_index, track_index in matches.items():
            track = self.tracks[track_index]
            self._follow(track, observations[obs_index], stamp_s)
            matched_tracks.add(track_index)
            result[obs_index] = track
        survivors = []
        for index, track in enumerate(self.tracks):
            if index in matched_tracks:
                survivors.append(track)
                continue
            track.missed += 1
            track.hits = 0
            track.age_frames += 1
            # A tentative track must be seen in a row; a confirmed one may wait.
            if track.confirmed and track.missed <= self.config.max_missed_frames:
                survivors.append(track)
            else:
                ended.append(track)
        for obs_index, observation in enumerate(observations):
            if result[obs_index] is None:
                track = Track(self._next_number, observation.box, observation.keypoints, stamp_s)
                self._next_number += 1
                survivors.append(track)
                result[obs_index] = track
                if new_sequence or self.config.confirm_frames <= 1:
                    self._confirm(track)
        self.tracks = survivors
        return result, [t for t in ended if t.confirmed]

    def _confirm(self, track: Track) -> None:
        track.track_id = f"p{self._next_id}"
        self._next_id += 1

    def _follow(self, track: Track, observation: Observation, stamp_s: float | None) -> None:
        box = observation.box
        if stamp_s is not None and track.stamp_s is not None and stamp_s > track.stamp_s:
            moved = np.array(
                [box.cx - track.box.cx, box.cy - track.box.cy, box.size - track.box.size]
            )
            velocity = moved / (stamp_s - track.stamp_s)
            track.velocity = track.velocity + VELOCITY_GAIN * (velocity - track.velocity)
        track.box, track.keypoints, track.stamp_s = box, observation.keypoints, stamp_s
        track.hits += 1
        track.age_frames += 1
        track.missed = 0
        if not track.confirmed and track.hits >= self.config.confirm_frames:
            self._confirm(track)

    def _match(self, observations: list[Observation], stamp_s: float | None) -> dict[int, int]:
        """{observation index: track index} minimising the total cost within the gates."""
        if not observations or not self.tracks:
            return {}
        cost = np.empty((len(observations), len(self.tracks)))
        allowed = np.zeros_like(cost, dtype=bool)
        for j, track in enumerate(self.tracks):
            box, shift = track.predicted(stamp_s)
            for i, observation in enumerate(observations):
                iou = square_iou(box, observation.box)
                distance = _keypoint_distance(track, shift, box, observation)
                allowed[i, j] = iou >= self.config.min_iou or (
                    distance <= self.config.max_keypoint_distance
                )
                w = self.config.iou_weight
                cost[i, j] = w * (1.0 - iou) + (1.0 - w) * min(
                    distance / self.config.max_keypoint_distance, 1.0
                )
        # Forbidden pairs cost more than any allowed assignment, so the solver avoids them.
        rows, cols = linear_sum_assignment(np.where(allowed, cost, 1.0 + cost.size))
        return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if allowed[i, j]}


def _keypoint_distance(
    track: Track, shift: np.ndarray, predicted: PartBox, observation: Observation
) -> float:
    """Mean distance of the keypoints both saw (track's moved by ``shift``) per body size; the
    box centres' distance when they share none."""
    size = max(predicted.size, observation.box.size, 1e-6)
    a, b = track.keypoints, observation.keypoints
    if a is not None and b is not None and a.shape == b.shape:
        shared = (a[:, 2] > VISIBILITY_GATE) & (b[:, 2] > VISIBILITY_GATE)
        if shared.any():
            gaps = a[shared, :2] + shift - b[shared, :2]
            return float(np.linalg.norm(gaps, axis=-1).mean() / size)
    centre = np.array([predicted.cx - observation.box.cx, predicted.cy - observation.box.cy])
    return float(np.linalg.norm(centre) / size)
