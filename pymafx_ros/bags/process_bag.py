"""One recorded bag through the node's pipeline and publishers, every frame, into an output bag.

The frames go through what the node runs (``pipeline_factory``, ``conversions``, the
``FramePublisher`` on a :class:`~pymafx_ros.bags.output_bag.RecordingNode`), in stamp order and
without dropping any: the output bag holds what the node would have published had it kept up,
with each message's header stamp and log time those of its image.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import logging
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from pymafx_ros.bags.input_bag import BagMessage, InputBag, ReadProblem
from pymafx_ros.bags.output_bag import OutputBag, RecordingNode
from pymafx_ros.bags.params import node_parameters
from pymafx_ros.geometry.tf_buffer import TransformUnavailableError
from pymafx_ros.ros.conversions import (
    RejectedMessageError,
    camera_info_is_uncalibrated,
    camera_info_to_intrinsics,
    check_camera_info,
    compressed_to_rgb,
    detector_timestamp_ms,
    image_to_rgb,
)
from pymafx_ros.ros.message_builders import is_publishable
from pymafx_ros.ros.node import stamp_ns
from pymafx_ros.ros.pipeline_factory import load_pipeline, pipeline_config
from pymafx_ros.ros.publishing import FramePublisher
from pymafx_ros.tools.motion_export import (
    DEFAULT_CAMERA_POSE,
    EXPORT_FORMATS,
    AmassExporter,
    camera_pose,
)
from pymafx_ros.tracking.offline_smoothing import (
    SMOOTHING_MODES,
    smooth_track_offline,
    track_jitter_mm,
)

LOG = logging.getLogger(__name__)
# Images are held this many deep and taken out by stamp, so a recorder that logged frames a
# little out of order (several callbacks, several threads) still feeds the tracker in order.
REORDER_DEPTH = 8


@dataclass
class BagOptions:
    """One process-bag run. ``overrides`` are node parameters (name -> value) from flags."""

    input: Path
    output: Path
    topic: str | None = None
    camera_info: str | None = None
    params_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    smoothing: str = "causal"  # causal (the node's filter), offline (zero lag) or none
    markers: bool = False
    copy_inputs: bool = False
    export: str | None = None  # "amass": one motion file per track
    export_dir: Path | None = None  # default: <output>_amass beside the bag
    camera_pose: str = DEFAULT_CAMERA_POSE
    overwrite: bool = False
    progress: bool | None = None  # None: a bar when stderr is a terminal


@dataclass
class BagSummary:
    """What a run did: the one-line JSON summary and the manifest's row."""

    input: str
    output: str
    frames_in: int = 0
    processed: int = 0
    people: int = 0  # distinct tracks published
    person_frames: int = 0
    failures: int = 0  # frames the pipeline (or decoding) failed on: skipped, never written
    problems: list[str] = field(default_factory=list)  # what could not be read, and where
    world_missing: int = 0  # frames without a camera pose in --world-frame
    jitter_mm: float = 0.0  # mean over tracks of the published joints' 11-frame jitter
    exported: list[str] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int = 0

    def to_json(self) -> str:
        """The summary as one line of JSON."""
        return json.dumps(asdict(self), separators=(",", ":"))


@dataclass
class _Frame:
    message: BagMessage
    rgb: np.ndarray
    result: Any


class BagRun:
    """The state of one run: input, output, pipeline, publisher, counters."""

    def __init__(self, options: BagOptions, pipeline_factory: Callable[[Any], Any]) -> None:
        self.options = options
        overrides = {"markers.enable": options.markers, "overlay.enable": False}
        overrides.update(options.overrides)
        self.params = node_parameters(options.params_file, overrides)
        self.summary = BagSummary(str(options.input), str(options.output))
        self._factory = pipeline_factory
        self._infos: list[tuple[int, Any]] = []  # CameraInfo by stamp
        self._last_stamp: int | None = None
        self._tracks: set[str] = set()
        self._held: list[_Frame] = []  # --smoothing offline: published at the end
        self._joints: dict[str, list[tuple[float, np.ndarray]]] = {}
        self.exporter: AmassExporter | None = None
        self._fixed_pose: tuple[np.ndarray, np.ndarray] | None = None
        if options.export:
            world = self.params.output.world_frame or "world (stated camera pose)"
            self.exporter = AmassExporter(world)
            if not self.params.output.world_frame:
                self._fixed_pose = camera_pose(options.camera_pose)

    def run(self) -> BagSummary:
        """Read, process, write; raises BagInputError for an input it cannot use."""
        started = time.perf_counter()
        with InputBag(self.options.input) as bag:
            selection = bag.select(self.options.topic, self.options.camera_info)
            out = OutputBag(self.options.output, overwrite=self.options.overwrite)
            try:
                self._run(bag, selection, out)
            except BaseException:
                out.abort()
                raise
            self.summary.problems = [str(p) for p in bag.problems]
            self._finish(started)
            out.set_info("pymafx_ros.source", str(self.options.input))
            out.set_info("pymafx_ros.problems", json.dumps(self.summary.problems))
            out.commit()
        return self.summary

    def _run(self, bag: InputBag, selection: Any, out: OutputBag) -> None:
        self.node = RecordingNode(out)
        self.publisher = FramePublisher(self.node, self.params.output)
        # One stage after the other here: the model keeps every core (pipeline.thread_budget).
        config = dataclasses.replace(pipeline_config(self.params), overlap_front_end=False)
        if self.options.smoothing != "causal":  # offline smooths afterwards, none never
            smoothing = dataclasses.replace(config.tracking.smoothing, enable=False)
            tracking = dataclasses.replace(config.tracking, smoothing=smoothing)
            config = dataclasses.replace(config, tracking=tracking)
        self.pipeline = self._factory(config)
        try:
            self.node.log_ns = self.node.clock.stamp_ns = bag.reader.start_time
            self.publisher.model_loaded(self.pipeline.model_info)
            total = selection.image.msgcount or None
            bar = tqdm(total=total, unit="frame", disable=self._no_bar(), dynamic_ncols=True)
            pending: list[tuple[int, int, BagMessage]] = []
            for message in bag.messages(selection):
                if self.options.copy_inputs:
                    self._copy(out, message, bag.reader.is2)
                if message.kind == "tf":
                    self.node.deliver(message.topic, message.msg)
                elif message.kind == "camera_info":
                    self._camera_info(message, bag.problems)
                else:
                    self.summary.frames_in += 1
                    stamp = stamp_ns(message.msg.header)
                    heapq.heappush(pending, (stamp, self.summary.frames_in, message))
                    if len(pending) > REORDER_DEPTH:
                        self._frame(heapq.heappop(pending)[2], bag.problems)
                        bar.update(1)
            while pending:
                self._frame(heapq.heappop(pending)[2], bag.problems)
                bar.update(1)
            bar.close()
            if self._held:
                self._publish_smoothed()
        finally:
            self.pipeline.close()

    @staticmethod
    def _copy(out: OutputBag, message: BagMessage, own_definition: bool) -> None:
        """An input message through to the output, at its log time; a ROS 2 bag's messages keep
        their own definition, ROS 1's were converted to Kilted's."""
        like = message.connection if own_definition else None
        out.write(message.topic, message.connection.msgtype, message.log_ns, message.cdr, like)

    def _no_bar(self) -> bool | None:
        return None if self.options.progress is None else not self.options.progress

    def _camera_info(self, message: BagMessage, problems: list[ReadProblem]) -> None:
        try:
            check_camera_info(message.msg)
        except RejectedMessageError as error:
            problems.append(ReadProblem(message.log_ns, message.topic, f"CameraInfo: {error}"))
            return
        self._infos.append((stamp_ns(message.msg.header), message.msg))
        self._infos.sort(key=lambda item: item[0])

    def _intrinsics(self, stamp: int, width: int, height: int) -> Any:
        """The calibration valid at the image stamp (the last CameraInfo at or before it, else
        the first one); None (the default pinhole) when there is none or it is uncalibrated."""
        if not self._infos:
            return None
        index = max(bisect_right([s for s, _ in self._infos], stamp) - 1, 0)
        info = self._infos[index][1]
        if camera_info_is_uncalibrated(info):
            return None
        return camera_info_to_intrinsics(info, width, height)

    def _frame(self, message: BagMessage, problems: list[ReadProblem]) -> None:
        """Decode, run and publish (or hold, for offline smoothing) one image."""
        stamp = stamp_ns(message.msg.header)
        # A repeated stamp goes on as in the node; one from the past would break tracking.
        if self._last_stamp is not None and stamp < self._last_stamp:
            problems.append(
                ReadProblem(message.log_ns, message.topic, "image stamp before the previous "
                            f"one ({stamp} < {self._last_stamp}, beyond the reorder depth): "
                            "skipped")
            )  # fmt: skip
            self.summary.failures += 1
            return
        limit = self.params.input.max_image_pixels
        try:
            if message.connection.msgtype.endswith("CompressedImage"):
                rgb = compressed_to_rgb(message.msg, limit)
            else:
                rgb = image_to_rgb(message.msg, limit)
            height, width = rgb.shape[:2]
            intrinsics = self._intrinsics(stamp, width, height)
        except RejectedMessageError as error:
            problems.append(ReadProblem(message.log_ns, message.topic, f"image refused: {error}"))
            self.summary.failures += 1
            return
        try:
            result = self.pipeline.process(
                rgb, intrinsics=intrinsics, timestamp_ms=detector_timestamp_ms(message.msg.header)
            )
        except Exception as error:  # one bad frame costs that frame, as in the node
            LOG.warning("frame at %d ns skipped: %s: %s", stamp, type(error).__name__, error)
            self.summary.failures += 1
            return
        self._last_stamp = stamp
        self.summary.processed += 1
        frame = _Frame(message, rgb, result)
        if self.options.smoothing == "offline":
            self._held.append(frame)
        else:
            self._publish(frame)

    def _publish(self, frame: _Frame) -> None:
        header = frame.message.msg.header
        self.node.log_ns = frame.message.log_ns
        self.node.clock.stamp_ns = stamp_ns(header)
        self.publisher.publish_frame(header, frame.rgb, frame.result)
        world = self.publisher.world
        if world is not None and not world.ok:
            self.summary.world_missing += 1
        people = [p for p in frame.result.people if is_publishable(p)]
        self.summary.person_frames += len(people)
        seconds = stamp_ns(header) / 1e9
        for person in people:
            self._tracks.add(person.track_id)
            self._joints.setdefault(person.track_id, []).append((seconds, person.joints))
        if self.exporter is not None:
            rotation, translation = self._camera_in_world(header)
            self.exporter.add(stamp_ns(header), people, rotation, translation)

    def _camera_in_world(self, header: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self._fixed_pose is not None:
            return self._fixed_pose
        world = self.publisher.world
        assert world is not None
        try:
            pose = world.buffer.lookup(world.world_frame, header.frame_id, stamp_ns(header))
        except TransformUnavailableError:
            return None, None
        return pose.rotation, pose.translation

    def _publish_smoothed(self) -> None:
        """Offline smoothing: each track filtered forward and backward, then every frame
        published in order."""
        config = self.params.pipeline.tracking.smoothing
        by_track: dict[str, list[tuple[int, int]]] = {}
        for index, frame in enumerate(self._held):
            for slot, person in enumerate(frame.result.people):
                if person.track_id:
                    by_track.setdefault(person.track_id, []).append((index, slot))
        for places in by_track.values():
            frames = [self._held[i] for i, _ in places]
            people = [f.result.people[s] for f, (_, s) in zip(frames, places, strict=True)]
            stamps = [stamp_ns(f.message.msg.header) / 1e9 for f in frames]
            smoothed = smooth_track_offline(
                people,
                stamps,
                [f.result.intrinsics for f in frames],
                config,
                getattr(self.pipeline, "posing", None),
            )
            for (index, slot), person in zip(places, smoothed, strict=True):
                self._held[index].result.people[slot] = person
        for frame in self._held:
            frame.result.smoothing = True
            self._publish(frame)
        self._held.clear()

    def _finish(self, started: float) -> None:
        summary = self.summary
        summary.people = len(self._tracks)
        jitters = [
            track_jitter_mm([s for s, _ in rows], np.stack([j for _, j in rows]))
            for rows in self._joints.values()
        ]
        summary.jitter_mm = round(float(np.mean(jitters)), 3) if jitters else 0.0
        if self.exporter is not None:
            folder = self.options.export_dir or self.options.output.with_name(
                f"{self.options.output.name}_amass"
            )
            summary.exported = [str(p) for p in self.exporter.write(folder)]
            if self.exporter.frames_without_pose:
                summary.problems.append(
                    f"{self.exporter.frames_without_pose} frame(s) with people had no camera "
                    f"pose in '{self.exporter.world_frame}' at their stamp: not exported"
                )
        if summary.world_missing:
            summary.problems.append(
                f"{summary.world_missing} frame(s) had no transform from the image frame to "
                f"'{self.params.output.world_frame}' at their stamp in the bag's TF: no world "
                "bodies"
            )
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.exit_code = 1 if summary.problems or summary.failures else 0


def process_bag(
    options: BagOptions, pipeline_factory: Callable[[Any], Any] = load_pipeline
) -> BagSummary:
    """Run one bag; BagInputError (exit 2) when the input, a topic or a type cannot be used,
    ParameterError or ValueError for bad options, FileExistsError for an existing output."""
    if options.smoothing not in SMOOTHING_MODES:
        raise ValueError(f"smoothing {options.smoothing!r}: choose {', '.join(SMOOTHING_MODES)}")
    if options.export not in (None, *EXPORT_FORMATS):
        raise ValueError(f"export {options.export!r}: choose {', '.join(EXPORT_FORMATS)}")
    return BagRun(options, pipeline_factory).run()
