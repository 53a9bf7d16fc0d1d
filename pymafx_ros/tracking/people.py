"""People over time: what the pipeline keeps per track between frames, and uses.

Before the model: the tracker gives each detection a track (only confirmed tracks go on); for a
confirmed track, hand and face boxes the detector is unsure of come from the track's previous
estimate moved with the body, and hand visibilities pass the hysteresis of ``hand_gate``.
After the model: each person's parameters are filtered with their track's filter
(``person_filter``), everything else is recomputed from them (``posing``), and the jitter of the
raw and published joints is measured, for the diagnostics. Before the detector: the live
tracks' predicted boxes tell it where to look again (``predicted_boxes``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from pymafx_ros.config import TrackingConfig
from pymafx_ros.frontend.box_rules import VISIBILITY_GATE
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.tracking.hand_gate import HandGate
from pymafx_ros.tracking.person_filter import PersonFilter
from pymafx_ros.tracking.quality import JitterMeter, TrackQuality
from pymafx_ros.tracking.tracker import Observation, Tracker

_HANDS = (("left_hand", "vis_lhand"), ("right_hand", "vis_rhand"))


@dataclass
class FrameTracks:
    """The confirmed people of a frame: their detections (part boxes from the track where
    useful), track ids, whether their parts came from the track, and their input indices."""

    people: list[PersonDetection]
    ids: list[str]
    carried: list[bool]
    indices: list[int]


class _TrackState:
    def __init__(self, config: TrackingConfig) -> None:
        self.filter = PersonFilter(config.smoothing)
        self.hands = {part: HandGate(config.hands) for part, _ in _HANDS}
        self.parts: PersonDetection | None = None  # last estimate's projected part boxes
        self.stamp_s: float | None = None
        self.raw_jitter = JitterMeter()
        self.jitter = JitterMeter()
        self.quality: TrackQuality | None = None
        self.age_frames = 0


# Recomputes what follows from a person's SMPL-X parameters (joints, joint rotations,
# fingertips, 2D keypoints, vertices) for the frame's intrinsics: ``pipeline.body_forward``.
Posing = Callable[[PersonResult, Intrinsics], PersonResult]


class PeopleOverTime:
    """Track-keyed state of one video stream; one instance per pipeline. ``posing`` turns each
    output person's (filtered) parameters into the values published with them; None keeps the
    values as given (callers whose people are already consistent and unfiltered)."""

    def __init__(self, config: TrackingConfig | None = None, posing: Posing | None = None) -> None:
        self.config = config or TrackingConfig()
        self.config.validate()
        self._tracker = Tracker(self.config.tracker)
        self._states: dict[str, _TrackState] = {}
        self._posing = posing

    def predicted_boxes(self, stamp_s: float | None) -> list[PartBox]:
        """Every live track's body box moved forward to ``stamp_s`` (constant velocity); none
        for a still image or a new sequence (its tracks all end)."""
        if stamp_s is None or not self._tracker.continues(stamp_s):
            return []
        return [track.predicted(stamp_s)[0] for track in self._tracker.tracks]

    def begin_frame(
        self, detections: list[PersonDetection], stamp_s: float | None, parts_from_body: bool
    ) -> FrameTracks:
        """Confirmed people of a frame with their part boxes from the track where useful.

        With ``parts_from_body`` every part of a person with a previous estimate comes from it
        (visibilities too); otherwise only the parts the detector is unsure of do.
        """
        observations = [Observation(d.body, d.keypoints.get("body")) for d in detections]
        tracks, ended = self._tracker.update(observations, stamp_s)
        for track in ended:
            self._states.pop(track.track_id, None)
        frame = FrameTracks([], [], [], [])
        for index, (detection, track) in enumerate(zip(detections, tracks, strict=True)):
            if track is None or not track.confirmed:
                continue
            state = self._states.setdefault(track.track_id, _TrackState(self.config))
            state.age_frames = track.age_frames
            if parts_from_body:
                person = _carried(detection, state.parts) if state.parts else detection
            else:
                person = self._unsure_parts(detection, state)
            frame.people.append(person)
            frame.ids.append(track.track_id)
            frame.carried.append(parts_from_body and state.parts is not None)
            frame.indices.append(index)
        return frame

    def _unsure_parts(self, detection: PersonDetection, state: _TrackState) -> PersonDetection:
        changes: dict[str, object] = {}
        previous = state.parts
        for part, vis_key in _HANDS:
            visibility, held = state.hands[part](getattr(detection, vis_key))
            unsure = getattr(detection, vis_key) <= VISIBILITY_GATE
            if previous is not None and unsure:
                changes[part] = follow_body(getattr(previous, part), previous.body, detection.body)
            # A hand held without a previous box would send the detector's guess to the expert.
            changes[vis_key] = visibility if previous is not None or not held else 0.0
        if previous is not None and detection.vis_face <= VISIBILITY_GATE:
            changes["face"] = follow_body(previous.face, previous.body, detection.body)
        return dataclasses.replace(detection, **changes)

    def remember_parts(self, ids: list[str], projected: list[PersonDetection]) -> None:
        """Keep each track's part boxes projected from this frame's estimate, for the next."""
        for track_id, parts in zip(ids, projected, strict=True):
            if track_id in self._states:
                self._states[track_id].parts = parts

    def finish(
        self, people: list[PersonResult], stamp_s: float | None, intrinsics: Intrinsics
    ) -> list[PersonResult]:
        """Each person's parameters filtered by their track's filter (when smoothing is on), the
        values that follow from them recomputed (``posing``), and the tracks' quality figures
        updated."""
        out = []
        for person in people:
            state = self._states.get(person.track_id)
            if state is None:
                out.append(self._posed(person, intrinsics))
                continue
            person = dataclasses.replace(person, age_frames=state.age_frames)
            dt = None
            if stamp_s is not None and state.stamp_s is not None:
                dt = stamp_s - state.stamp_s
            state.stamp_s = stamp_s
            filtered = person
            if self.config.smoothing.enable:
                filtered = state.filter(person, dt)
                filtered.smoothed = dt is not None
            filtered = self._posed(filtered, intrinsics)
            out.append(filtered)
            if stamp_s is not None:
                enabled = self.config.smoothing.enable
                state.quality = TrackQuality(
                    track_id=person.track_id,
                    age_frames=state.age_frames,
                    jitter_raw_mm=state.raw_jitter.add(stamp_s, person.joints),
                    jitter_mm=state.jitter.add(stamp_s, filtered.joints),
                    lag_ms=state.filter.lag_ms if enabled else 0.0,
                    rotation_lag_ms=state.filter.rotation_lag_ms if enabled else 0.0,
                )
        return out

    def _posed(self, person: PersonResult, intrinsics: Intrinsics) -> PersonResult:
        return person if self._posing is None else self._posing(person, intrinsics)

    def quality(self) -> list[TrackQuality]:
        """The quality figures of the live tracks seen in a video so far (none for stills)."""
        return [s.quality for s in self._states.values() if s.quality is not None]


def _carried(detection: PersonDetection, previous: PersonDetection) -> PersonDetection:
    """``detection`` with every part box and visibility of ``previous``, moved with the body."""
    return dataclasses.replace(
        detection,
        left_hand=follow_body(previous.left_hand, previous.body, detection.body),
        right_hand=follow_body(previous.right_hand, previous.body, detection.body),
        face=follow_body(previous.face, previous.body, detection.body),
        vis_lhand=previous.vis_lhand,
        vis_rhand=previous.vis_rhand,
        vis_face=previous.vis_face,
    )


def follow_body(part: PartBox, old_body: PartBox, new_body: PartBox) -> PartBox:
    """Move a part box with its body box (same offset and size relative to the body)."""
    ratio = new_body.size / old_body.size
    return PartBox(
        cx=new_body.cx + (part.cx - old_body.cx) * ratio,
        cy=new_body.cy + (part.cy - old_body.cy) * ratio,
        size=part.size * ratio,
    )
