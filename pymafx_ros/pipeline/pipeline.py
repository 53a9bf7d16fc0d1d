"""One RGB frame (+ intrinsics) in, every person as metric SMPL-X in the camera frame out.

Stages (timed per frame): front end (people, hand and face boxes) -> tracking (ids, part boxes
from tracks) -> crops (one remap per part straight from the frame) -> model (all people in one
batch per expert) -> lift (translation, axis-angle, global rotations, 2D keypoints) -> tracking
again (per-track filter of the SMPL-X parameters; joints, rotations, keypoints, fingertips and
the mesh recomputed from them with ``body_forward``, so they agree with the parameters). No
ROS here: the node and the offline CLI share it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend import PersonDetection, PersonDetector, create_detector
from pymafx_ros.frontend.external import person_from_record
from pymafx_ros.frontend.image_input import check_rgb
from pymafx_ros.frontend.types import LooksAgain
from pymafx_ros.geometry.camera import Intrinsics, default_intrinsics
from pymafx_ros.pipeline.assemble import FinalOutput, assemble_people
from pymafx_ros.pipeline.body_forward import posed_person
from pymafx_ros.pipeline.device_crops import FrameCrops
from pymafx_ros.pipeline.device_recovery import DeviceError, DeviceGuard, classify_device_error
from pymafx_ros.pipeline.devices import describe_device, resolve_device
from pymafx_ros.pipeline.model_loading import ModelLoader, Predictor, load_model
from pymafx_ros.pipeline.part_projection import project_parts
from pymafx_ros.pipeline.result import FrameResult, ModelInfo
from pymafx_ros.pipeline.thread_budget import stage_plan
from pymafx_ros.tracking.people import PeopleOverTime, Posing

LOG = logging.getLogger(__name__)


_PARTS = ("body", "left_hand", "right_hand", "face")

# A person from outside: a PersonDetection or a box record (see frontend.external).
PersonBoxes = PersonDetection | Mapping[str, Any]


@dataclass
class FrontEndFrame:
    """A frame after ``Pipeline.front_end``: the checked (H, W, 3) uint8 image, its
    intrinsics, its stamp in seconds (None: a still) and the people found, best first."""

    image: np.ndarray
    intrinsics: Intrinsics
    stamp_s: float | None
    detections: list[PersonDetection]
    timings: dict[str, float]  # milliseconds per stage, filled in by both stages


def check_intrinsics(intrinsics: Intrinsics) -> Intrinsics:
    """Reject intrinsics a pinhole projection cannot use (zero/negative/non-finite focal)."""
    values = (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
    if not all(np.isfinite(values)) or intrinsics.fx <= 0 or intrinsics.fy <= 0:
        raise ValueError(
            f"intrinsics need finite fx, fy > 0 and a finite principal point, got {values}; "
            "pass None to use the default field of view"
        )
    return intrinsics


class Pipeline:
    """Frame -> ``FrameResult``. Build once (model loading takes seconds), call ``process``.

    ``model`` (a ``Predictor``), ``model_info`` and ``detector`` replace the built ones;
    ``model_loader`` replaces ``load_model`` (it also rebuilds the model on the CPU when the GPU
    fails, see ``device_recovery``). ``config.device`` 'auto' is resolved here. Frames with a
    ``timestamp_ms`` are one video: people are tracked and filtered across them.
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        model: Predictor | None = None,
        model_info: ModelInfo | None = None,
        detector: PersonDetector | None = None,
        model_loader: ModelLoader | None = None,
    ) -> None:
        config = config or PipelineConfig()
        config.validate()
        device = resolve_device(config.device)
        # Whether the front end runs beside the model, and the model's threads if so.
        self.stage_plan = stage_plan(config, device)
        self.config = dataclasses.replace(
            config,
            device=str(device),
            num_threads=self.stage_plan.threads,
            overlap_front_end=self.stage_plan.overlap,
        )
        if self.config.num_threads:
            torch.set_num_threads(self.config.num_threads)
        # An injected model without a loader cannot be rebuilt on the CPU after a GPU failure.
        self._loader = model_loader or (load_model if model is None else None)
        self._guard = DeviceGuard(device, self._move_to_cpu)
        if model is None:
            model, model_info = self._load_first_model()
        if model_info is None:
            raise ValueError("an injected model needs its model_info")
        self._model = model
        self._info = model_info
        self._detector = detector or create_detector(
            self.config.detector,
            max_people=self.config.max_people,
            min_score=self.config.min_person_score,
            **self.config.detector_options,
        )
        parts_from_body = self.config.parts_from_body
        if parts_from_body is None:
            parts_from_body = self.config.detector == "full_frame"
        self._parts_from_body = parts_from_body
        # The parts cropped for the model: a left-out expert's crops are never cut (``experts``).
        self._cropped = tuple(
            part
            for part in _PARTS
            if part == "body"
            or (part == "face" and self.config.runs_face)
            or (part.endswith("_hand") and self.config.runs_hands)
        )
        # Public: offline smoothing (bags) recomputes its filtered people the same way.
        self.posing = self._posing()
        self._over_time = PeopleOverTime(self.config.tracking, self.posing)

    def _posing(self) -> Posing | None:
        """Joints, rotations, keypoints, fingertips and vertices from each person's (filtered)
        parameters with the loaded SMPL-X (``body_forward``), so they agree with the published
        parameters; None for an injected model without its body (its values are kept)."""
        forward = self._info.body
        if forward is None:
            if self.config.tracking.smoothing.enable:
                LOG.warning(
                    "the injected model_info has no body (pipeline.body_forward): joints are "
                    "the model's, not recomputed from the filtered parameters"
                )
            return None
        with_mesh = self.config.with_vertices
        return lambda person, intrinsics: posed_person(forward, person, intrinsics, with_mesh)

    def _load_first_model(self) -> tuple[Predictor, ModelInfo]:
        """Load on the configured device; a GPU that fails while loading (out of memory, a
        driver error) leaves the pipeline on the CPU instead of failing the start."""
        assert self._loader is not None
        try:
            return self._loader(self.config)
        except RuntimeError as error:
            if self._guard.on_cpu or classify_device_error(error) is None:
                raise
            why = f"loading the model failed: {str(error).strip().splitlines()[0]}"
            LOG.error("%s on %s: running on the CPU instead", why, self.config.device)
            self._guard.moved_to_cpu(why)
            self.config = dataclasses.replace(self.config, device="cpu")
            return self._loader(self.config)

    def _move_to_cpu(self, why: str) -> None:
        """``DeviceGuard``'s fallback: the same model rebuilt on the CPU."""
        if self._loader is None:
            raise DeviceError(f"{why}; this pipeline was given its model, no CPU rebuild")
        self.config = dataclasses.replace(self.config, device="cpu")
        self._model = None  # drop the GPU model before building the CPU one
        self._model, _ = self._loader(self.config)

    @property
    def device(self) -> torch.device:
        """Where inference runs now (the CPU after a GPU failure, see ``device_recovery``)."""
        return self._guard.device

    def device_health(self) -> dict[str, str]:
        """The device's diagnostic values: device, requested, fallback, OOM and lost frames."""
        values = self._guard.health.as_values()
        values["device"] = describe_device(self.device)
        return values

    @property
    def model_info(self) -> ModelInfo:
        """Joint names/tree, mesh faces and asset/weight provenance."""
        return self._info

    def close(self) -> None:
        """Free the detector's native resources; the pipeline must not be used afterwards."""
        self._detector.close()

    def process(
        self,
        rgb: np.ndarray,
        intrinsics: Intrinsics | None = None,
        timestamp_ms: int | None = None,
        boxes: Sequence[PersonBoxes] | None = None,
    ) -> FrameResult:
        """Find and reconstruct every person in an (H, W, 3) uint8 RGB frame.

        ``intrinsics`` None: ``default_intrinsics`` with ``config.default_fov_deg``.
        ``boxes``: people from outside (PersonDetection or box records of
        ``frontend.external``); the detector is skipped. ``timestamp_ms``: the image stamp of
        a video frame (increasing; it drives tracking and the filters' time steps), None for an
        independent still image (every person a new track, nothing filtered).
        """
        return self.back_end(self.front_end(rgb, intrinsics, timestamp_ms, boxes))

    def front_end(
        self,
        rgb: np.ndarray,
        intrinsics: Intrinsics | None = None,
        timestamp_ms: int | None = None,
        boxes: Sequence[PersonBoxes] | None = None,
    ) -> FrontEndFrame:
        """The first stage of ``process`` (same arguments): the frame checked and its people
        found. It reads the tracks (where the detector looks again) but changes no tracking
        state, so it may run beside ``back_end`` of the previous frame (``pipeline.overlap``)
        once that one called its ``tracked``; a result never given to ``back_end`` leaves
        tracking as if the frame never came."""
        start = time.perf_counter()
        image = check_rgb(rgb)
        height, width = image.shape[:2]
        if intrinsics is None:
            intrinsics = default_intrinsics(width, height, self.config.default_fov_deg)
        check_intrinsics(intrinsics)
        # Every key is always present (0 for skipped stages) so consumers can chart them.
        timings = dict.fromkeys(("frontend", "tracking", "crops", "model", "lift", "total"), 0.0)
        detections = self._select(self._detect(image, timestamp_ms, boxes))
        _add_time(timings, "frontend", start)
        stamp_s = None if timestamp_ms is None else timestamp_ms / 1e3
        return FrontEndFrame(image, intrinsics, stamp_s, detections, timings)

    def back_end(
        self, front: FrontEndFrame, tracked: Callable[[], None] | None = None
    ) -> FrameResult:
        """The rest of ``process`` for a ``front_end`` result: tracking, part boxes, crops,
        model, lift and filtering. Frames must come in the order their front ends ran.
        ``tracked()`` is called once tracking took the frame: the next frame's front end may
        start from then on and sees the tracks after this frame, as in a serial run."""
        start = time.perf_counter()
        image, intrinsics, stamp_s, timings = (
            front.image,
            front.intrinsics,
            front.stamp_s,
            front.timings,
        )
        height, width = image.shape[:2]
        tracked_frame = self._over_time.begin_frame(
            front.detections, stamp_s, self._parts_from_body
        )
        if tracked is not None:
            tracked()
        people, ids = tracked_frame.people, tracked_frame.ids
        _add_time(timings, "tracking", start)
        result = FrameResult(
            people=[],
            intrinsics=intrinsics,
            image_width=width,
            image_height=height,
            placeholder_assets=self._info.placeholder_assets,
            placeholder_weights=self._info.placeholder_weights,
            timings_ms=timings,
            smoothing=self.config.tracking.smoothing.enable,
        )
        frame = FrameCrops(image)
        if people and self._parts_from_body:
            people = self._parts_for(frame, image.shape, people, tracked_frame.carried, timings)
        if people:
            final = self._infer(
                frame, people, timings, detector_visibility=not self._parts_from_body
            )
            mark = time.perf_counter()
            result.people, result.dropped_non_finite = assemble_people(
                final, people, intrinsics, ids, face_estimated=self.config.runs_face
            )
            projected = project_parts(people, final.all_joints, final.cams, width, height)
            mark = _add_time(timings, "lift", mark)
            self._over_time.remember_parts(ids, projected)
            result.people = self._over_time.finish(result.people, stamp_s, intrinsics)
            _add_time(timings, "tracking", mark)
        result.tracks = self._over_time.quality()
        # Work only: the wait between the stages (overlapped) is not the frame's.
        timings["total"] = timings["frontend"] + (time.perf_counter() - start) * 1e3
        if result.dropped_non_finite:
            LOG.warning("dropped %d people with non-finite values", result.dropped_non_finite)
        return result

    def _detect(
        self,
        image: np.ndarray,
        timestamp_ms: int | None,
        boxes: Sequence[PersonBoxes] | None,
    ) -> list[PersonDetection]:
        if boxes is None:
            if timestamp_ms is not None and isinstance(self._detector, LooksAgain):
                # Where the live tracks should be now: the detector looks there again when its
                # whole-frame pass misses them, so a tracked person is not lost between grids.
                # Overlapped, this read runs beside the previous frame's model stage, after its
                # tracking step (the hand-off of pipeline.overlap); only begin_frame writes it.
                self._detector.expect_people(self._over_time.predicted_boxes(timestamp_ms / 1e3))
            return self._detector.detect(image, timestamp_ms=timestamp_ms)
        if isinstance(boxes, Mapping):
            raise ValueError("boxes must be a list with one record per person, not one record")
        return [b if isinstance(b, PersonDetection) else person_from_record(b) for b in boxes]

    def _select(self, detections: list[PersonDetection]) -> list[PersonDetection]:
        """Best-scoring people first, at most ``max_people``, none below ``min_person_score``
        and none whose boxes cannot be cropped (non-finite, or not a positive size)."""
        kept = [d for d in detections if d.score >= self.config.min_person_score and _croppable(d)]
        kept.sort(key=lambda d: d.score, reverse=True)
        return kept[: self.config.max_people]

    def _parts_for(
        self,
        frame: FrameCrops,
        image_shape: tuple[int, ...],
        people: list[PersonDetection],
        carried: list[bool],
        timings: dict[str, float],
    ) -> list[PersonDetection]:
        """Part boxes from the body expert: those carried over from a person's track, or else a
        first model pass on this frame (hands marked unseen, so the arms are the body's own)."""
        fresh = [i for i, done in enumerate(carried) if not done]
        if not fresh:
            return people
        unseen = [dataclasses.replace(people[i], vis_lhand=0.0, vis_rhand=0.0) for i in fresh]
        first = self._infer(frame, unseen, timings, detector_visibility=True)
        height, width = image_shape[:2]
        projected = project_parts(
            [people[i] for i in fresh], first.all_joints, first.cams, width, height
        )
        people = list(people)
        for index, person in zip(fresh, projected, strict=True):
            people[index] = person
        return people

    def _infer(
        self,
        frame: FrameCrops,
        people: list[PersonDetection],
        timings: dict[str, float],
        detector_visibility: bool,
    ) -> FinalOutput:
        """Crops of every part of every person, then one model call for all of them, under
        the device policy of ``device_recovery`` (retry, skip or rerun on the CPU).

        ``detector_visibility`` False lets the model's own head judge the hands.
        """
        return self._guard.run(
            lambda: self._infer_once(frame, people, timings, detector_visibility)
        )

    def _infer_once(
        self,
        frame: FrameCrops,
        people: list[PersonDetection],
        timings: dict[str, float],
        detector_visibility: bool,
    ) -> FinalOutput:
        # On a GPU the work is queued asynchronously: "crops" times the queueing, "model" ends
        # with the one device-to-host copy of the results, so it holds the GPU time.
        mark = time.perf_counter()
        device = self.device
        boxes = [
            (box.cx, box.cy, box.size)
            for part in self._cropped
            for box in (getattr(person, part) for person in people)
        ]
        crops = frame.crops(np.array(boxes), device)
        # A part left out of ``experts`` is None: the model does not run its expert.
        cut = dict(zip(self._cropped, crops.split(len(people)), strict=True))
        mark = _add_time(timings, "crops", mark)
        visibility: dict[str, torch.Tensor] = {}
        if detector_visibility:
            # Host tensors: the model picks the visible hands on the host and uploads them
            # without synchronising a GPU (PyMAFX.predict).
            given = torch.tensor([[p.vis_lhand, p.vis_rhand] for p in people])
            visibility = {"vis_lhand": given[:, 0], "vis_rhand": given[:, 1]}
        with torch.inference_mode():
            output = self._model(
                cut["body"], cut.get("left_hand"), cut.get("right_hand"), cut.get("face"),
                **visibility,
            )  # fmt: skip
        final = FinalOutput.from_model(output, with_vertices=self.config.with_vertices)
        _add_time(timings, "model", mark)
        return final


def _croppable(person: PersonDetection) -> bool:
    boxes = np.array([[b.cx, b.cy, b.size] for b in (getattr(person, p) for p in _PARTS)])
    usable = bool(np.isfinite(boxes).all() and (boxes[:, 2] > 0).all())
    if not usable:
        LOG.warning("ignoring a person with unusable boxes: %s", person)
    return usable


def _add_time(timings: dict[str, float], name: str, since: float) -> float:
    """Add the milliseconds since ``since`` to ``timings[name]``; return now."""
    now = time.perf_counter()
    timings[name] += (now - since) * 1e3
    return now
