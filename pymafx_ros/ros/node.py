"""The pymafx ROS 2 node: camera images in; SMPL-X people, TF, markers, overlay, diagnostics out.

A thin adapter: callbacks validate cheaply and store the newest frame; the inference thread loads
the pipeline, then runs the model and publishes while a front-end thread decodes and detects
the next frame beside it (``pipeline.overlap``); the main thread only spins the executor, so
parameter/service requests are answered while inference runs. Every output carries the header
of the image it came from. Nothing that fails on one frame stops the node: it is logged (rate
limited), counted in the diagnostics, and the next frame is processed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.pipeline.devices import resolve_device
from pymafx_ros.pipeline.frame_slot import NewestFrameSlot
from pymafx_ros.pipeline.memory import limit_heap_arenas, return_freed_memory
from pymafx_ros.pipeline.overlap import TwoStages
from pymafx_ros.pipeline.thread_budget import stage_plan
from pymafx_ros.ros.conversions import (
    RejectedMessageError,
    camera_info_is_uncalibrated,
    camera_info_to_intrinsics,
    check_camera_info,
    check_compressed,
    check_image,
    detector_timestamp_ms,
)
from pymafx_ros.ros.diagnostics import NodeStats, diagnostic_array
from pymafx_ros.ros.frame_stages import FrontDone, decode
from pymafx_ros.ros.node_log import CoreLogForwarder, NodeLog
from pymafx_ros.ros.parameters import ParameterError, declare_and_validate
from pymafx_ros.ros.pipeline_factory import (
    PipelineFactory,
    StartupError,
    check_model_files,
    is_file_error,
    load_pipeline,
    pipeline_config,
)
from pymafx_ros.ros.publishing import FramePublisher

NODE_NAME = "pymafx"
WATCHDOG_PERIOD_S = 0.5
# Longest wait for the inference thread when stopping; a model load or frame still running then
# is abandoned, so the node exits well within launch's 5 s before it escalates to SIGTERM.
STOP_JOIN_S = 1.5


def input_qos(reliability: str) -> QoSProfile:
    """Sensor-data QoS (keep last 5, volatile), best effort or reliable as asked."""
    qos = QoSProfile(
        depth=qos_profile_sensor_data.depth, durability=qos_profile_sensor_data.durability
    )
    qos.reliability = (
        ReliabilityPolicy.RELIABLE if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    )
    return qos


def stamp_ns(header: Header) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


class PymafxNode(Node):
    """Declares parameters, topics and the service; owns the inference thread.

    Raises ParameterError or StartupError (nothing published yet) on bad parameters or broken
    model files."""

    def __init__(self, pipeline_factory: PipelineFactory = load_pipeline, **node_kwargs) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = declare_and_validate(self)
        check_model_files(self.params.pipeline)
        self.stats = NodeStats()
        self.fatal_error: str | None = None
        self.fatal_exit_code = 1
        self._log = NodeLog(self.get_logger())
        self._core_log = CoreLogForwarder(self._log).attach()
        self._slot: NewestFrameSlot[Any] = NewestFrameSlot()
        self._camera_info: CameraInfo | None = None
        self._enabled = threading.Event()
        self._enabled.set()
        self._stop = threading.Event()
        # Held while publishing a frame's outputs; stop() takes it, so after it nothing is sent.
        self._publish_lock = threading.Lock()

        self._publisher = FramePublisher(self, self.params.output)
        world = self._publisher.world
        self.stats.set_world(
            world.status if world else "world_frame not set: ~/world_bodies is off"
        )
        self.stats.set_state(
            "loading model", device=self.params.pipeline.device, tf=self._publisher.tf_mechanism
        )
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        compressed = self.params.input.input_transport == "compressed"
        self._image_topic = "image/compressed" if compressed else "image"
        image_type = CompressedImage if compressed else Image
        sensor = input_qos(self.params.input.input_reliability)
        self.create_subscription(image_type, self._image_topic, self._on_image, sensor)
        self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, sensor)
        self._create_enable_service()
        self.create_timer(self.params.diagnostics_period_s, self._publish_diagnostics)

        self._pipeline_factory = pipeline_factory
        self._pipeline: Any = None
        config = self.params.pipeline
        plan = stage_plan(config, resolve_device(config.device))
        self._stages: TwoStages[Any, FrontDone] = TwoStages(
            self._slot.take,
            self._front,
            self._back,
            overlap=plan.overlap,
            on_error=self._front_bug,
        )
        how = "front end beside the model (just in time)" if plan.overlap else "one after another"
        self.stats.set_info(stages=f"{how}: {plan.reason}")
        self._log.info(f"stages: {how} ({plan.reason})")
        self._worker_failure: str | None = None
        self._model_ended_at: float | None = None  # perf_counter at the last model stage's end
        self._worker = self._start_worker()
        self.create_timer(WATCHDOG_PERIOD_S, self._watch_worker)

    # ----------------------------------------------------------------- callbacks (executor)
    def _on_image(self, msg: Image | CompressedImage) -> None:
        if not self._enabled.is_set():
            self.stats.frame_ignored()
            return
        # Header checks only (no pixels read): a refused message never displaces a good frame.
        try:
            if isinstance(msg, Image):
                check_image(msg, self.params.input.max_image_pixels)
            else:
                check_compressed(msg, self.params.input.max_image_pixels)
        except RejectedMessageError as exc:
            self._reject(exc, getattr(msg, "encoding", None) or getattr(msg, "format", ""))
            return
        replaced = self._slot.put((msg, time.monotonic()))
        self.stats.frame_received(replaced)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            check_camera_info(msg)
        except RejectedMessageError as exc:
            self._reject(exc, "", topic="camera_info")  # the last usable one stays in use
            return
        self._camera_info = msg

    def _reject(self, exc: RejectedMessageError, detail: str, topic: str | None = None) -> None:
        """Count a refused message by kind and warn (rate-limited per kind) naming the topic."""
        self.stats.message_rejected(exc.reason)
        name = self.resolve_topic_name(topic or self._image_topic)
        self._log.warning(f"rejected a message on '{name}': {exc}", f"{exc.reason}:{detail}")

    def _create_enable_service(self) -> None:
        try:
            from std_srvs.srv import SetBool
        except ImportError:
            self.get_logger().warning("std_srvs is not installed: no ~/enable service")
            return
        self.create_service(SetBool, "~/enable", self._on_enable)

    def _on_enable(self, request, response):
        if request.data:
            self._enabled.set()
            self.stats.set_state("running" if self._publisher.ready else "loading model")
        else:
            self._enabled.clear()
            self._slot.clear()
            self.stats.set_state("paused")
        response.success = True
        response.message = "inference enabled" if request.data else "inference paused"
        self.get_logger().info(response.message)
        return response

    def _publish_diagnostics(self) -> None:
        # Frames freed by the callback and inference threads stay in glibc's per-thread heaps
        # (tens of MB at 1080p) unless handed back; once per period costs about a millisecond.
        return_freed_memory()
        header = Header(stamp=self.get_clock().now().to_msg())
        self.stats.pending = self.frames_pending()
        times = self._stages.snapshot()
        if times.frames:
            self.stats.set_info(
                stage_means=f"front end {times.front_ms:.1f} ms, model stage {times.back_ms:.1f} "
                f"ms, model idle {times.back_idle_ms:.1f} ms, front end result waiting "
                f"{times.handoff_wait_ms:.1f} ms"
            )
        name = self.get_fully_qualified_name().lstrip("/")  # e.g. "cam1/pymafx"
        self._diagnostics_pub.publish(diagnostic_array(self.stats.snapshot(), name, header))

    def frames_pending(self) -> int:
        """Frames waiting for the front end, in it, waiting for the model stage or in it."""
        return self._slot.pending() + self._stages.in_flight()

    def _watch_worker(self) -> None:
        """Restart the inference thread if something ended it (executor timer)."""
        if self._worker.is_alive() or self._stop.is_set() or self.fatal_error is not None:
            return
        reason = self._worker_failure or "it ended without an exception"
        self._worker_failure = None
        self.stats.worker_restarted(reason)
        self._log.error(f"the inference thread died ({reason}); restarting it")
        self._slot.done()  # the frame it was working on is abandoned
        self._worker = self._start_worker()

    # ----------------------------------------------------------------- inference thread
    def _start_worker(self) -> threading.Thread:
        # A daemon: a model load cannot be interrupted, and stop() must not wait for it.
        worker = threading.Thread(target=self._run_worker, name="pymafx-inference", daemon=True)
        worker.start()
        return worker

    def _run_worker(self) -> None:
        """Load the pipeline once, then serve frames until stopped. Whatever ends the thread
        otherwise is recorded for the watchdog, which reports it and starts a new thread."""
        try:
            if self._pipeline is None and not self._load_pipeline():
                return
            self._serve_frames()
        except BaseException as exc:
            self._worker_failure = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            # Not under a front end still running (abandoned on stop): it uses the detector.
            if self._stop.is_set() and self._pipeline is not None and self._stages.idle():
                self._pipeline.close()

    def _load_pipeline(self) -> bool:
        try:
            pipeline = self._pipeline_factory(pipeline_config(self.params))
        except Exception as exc:  # any load failure ends the node with a clear message
            self.fatal_exit_code = 2 if is_file_error(exc) else 1
            self.fatal_error = f"could not load the pipeline: {type(exc).__name__}: {exc}"
            self.stats.set_state("failed")
            return False
        self._pipeline = pipeline
        info = pipeline.model_info
        config = getattr(pipeline, "config", None)
        with self._publish_lock:
            if self._stop.is_set():
                return False
            self._publisher.model_loaded(info)
        self.stats.set_state(
            "running" if self._enabled.is_set() else "paused",
            device=str(getattr(config, "device", "unknown")),
            backend=info.backend.get("backend", "torch"),
            precision=info.backend.get("precision", "fp32"),
            cpu=info.backend.get("cpu", ""),
            backend_fallback=info.backend.get("fallback", ""),
            experts=info.backend.get("experts", "body,hands,face"),
            assets_source=info.assets_source,
            weights_source=info.weights_source,
            placeholder_assets=bool(info.placeholder_assets),
            placeholder_weights=bool(info.placeholder_weights),
        )
        self._report_device(pipeline)
        if info.placeholder_assets or info.placeholder_weights:
            which = " and ".join(
                name
                for name, used in (
                    ("assets", info.placeholder_assets),
                    ("weights", info.placeholder_weights),
                )
                if used
            )
            self._log.error(
                f"PLACEHOLDER {which} in use: the published poses are MEANINGLESS. For real "
                "results set data_dir:=<PyMAF-X data/ folder with smpl/SMPLX_NEUTRAL_2020.npz "
                "...> and checkpoint:=<PyMAF-X checkpoint file> (see the README, 'Assets')."
            )
        self._log.info(
            f"model loaded (assets: {info.assets_source}; weights: {info.weights_source})"
        )
        return True

    def _serve_frames(self) -> None:
        """Frames through the two stages until stopped: the front end (decode, detector) on its
        own thread, the model and publishing on this one. An exception costs that frame only;
        one that ends the stages (SystemExit, a dead front-end thread) goes to the watchdog."""
        self._stages.run(self._stop)

    def _front(self, item: tuple[Image | CompressedImage, float]) -> FrontDone | None:
        """Decode and run the pipeline's front end; None when the frame is refused, fails or
        inference is paused."""
        msg, received_at = item
        self._slot.done()  # from now on the stages count it (frames_pending)
        if not self._enabled.is_set():
            return None
        started = time.perf_counter()
        try:
            rgb = decode(msg, self.params.input.max_image_pixels)
        except RejectedMessageError as exc:
            self._reject(exc, getattr(msg, "format", ""))
            return None
        height, width = rgb.shape[:2]
        intrinsics = self._intrinsics(width, height)
        decoded = time.perf_counter()
        front = None
        front_end = getattr(self._pipeline, "front_end", None)
        if callable(front_end):
            try:
                front = front_end(
                    rgb, intrinsics=intrinsics, timestamp_ms=detector_timestamp_ms(msg.header)
                )
            except Exception as exc:  # one bad frame must not end the node
                self._pipeline_failed(exc)
                return None
        done = time.perf_counter()
        return FrontDone(msg, rgb, intrinsics, front, received_at, started, decoded, done)

    def _front_bug(self, exc: Exception) -> None:
        """A bug in our front-end code: log it, count it, take the next frame."""
        self.stats.frame_failed("internal_error")
        trace = "".join(traceback.format_exception(exc, limit=8))
        self._log.error(
            f"the front end failed in the node:\n{trace}", key=f"internal:{type(exc).__name__}"
        )

    def _back(self, frame: FrontDone, release) -> None:
        """The model stage and publishing; a paused node drops the frame here."""
        try:
            if self._enabled.is_set():
                self._process(frame, release)
        except Exception as exc:  # a bug in our code: log it, count it, take the next frame
            self.stats.frame_failed("internal_error")
            self._log.error(
                f"processing a frame failed in the node:\n{traceback.format_exc(limit=8)}",
                key=f"internal:{type(exc).__name__}",
            )
        finally:
            self._model_ended_at = time.perf_counter()

    def _pipeline_failed(self, exc: Exception) -> None:
        # GPU out of memory / lost device: pipeline.device_recovery.DeviceError
        self.stats.frame_failed(getattr(exc, "failure_kind", "processing_error"))
        text = f"the pipeline failed on a frame: {type(exc).__name__}: {exc}"
        self._log.warning(text, key=f"pipeline:{type(exc).__name__}")

    def _intrinsics(self, width: int, height: int) -> Intrinsics | None:
        """Intrinsics for this image from the last usable CameraInfo; None (with a rate-limited
        warning saying why) when the default pinhole must be used."""
        info = self._camera_info
        if info is None:
            why = "no CameraInfo yet"
        elif camera_info_is_uncalibrated(info):
            why = "CameraInfo is uncalibrated (K[0]==0)"
        else:
            try:
                return camera_info_to_intrinsics(info, width, height)
            except RejectedMessageError as exc:
                self.stats.message_rejected(exc.reason)
                why = str(exc)
        self._log.warning(
            f"{why} on '{self.resolve_topic_name('camera_info')}': using the default pinhole "
            f"with a {self.params.pipeline.default_fov_deg} deg horizontal field of view",
            key="intrinsics",
        )
        return None

    def _process(self, frame: FrontDone, release) -> None:
        msg, rgb = frame.msg, frame.rgb
        model_started = time.perf_counter()
        try:
            if frame.front is not None:
                result = self._pipeline.back_end(frame.front, tracked=release)
            else:
                result = self._pipeline.process(
                    rgb,
                    intrinsics=frame.intrinsics,
                    timestamp_ms=detector_timestamp_ms(msg.header),
                )
        except Exception as exc:  # one bad frame must not end the node
            self._pipeline_failed(exc)
            return
        finally:
            self._report_device(self._pipeline)
        inferred = time.perf_counter()
        latency = {f"stage {k}": v for k, v in result.timings_ms.items()}
        latency["decode"] = 1e3 * (frame.decoded - frame.started)
        latency["pipeline"] = 1e3 * (frame.done - frame.decoded + inferred - model_started)
        latency["queue wait"] = 1e3 * (frame.started - frame.received_at)
        # A front-end result waiting for the model stage (just in time keeps it short).
        latency["front end wait"] = 1e3 * (model_started - frame.done)
        if self._model_ended_at is not None:  # the model stage waiting for a frame
            latency["model idle"] = 1e3 * (model_started - self._model_ended_at)
        with self._publish_lock:
            if self._stop.is_set():
                return
            people, non_finite = self._publisher.publish_frame(msg.header, rgb, result)
        self.stats.tracking_seen(result.smoothing, result.tracks)
        if self._publisher.world is not None:
            self.stats.set_world(self._publisher.world.status, self._publisher.world.ok)
        latency["publish"] = 1e3 * (time.perf_counter() - inferred)
        if non_finite:
            self._log.warning(
                f"dropped {non_finite} people with non-finite values (the frame's other "
                f"{people} were published)",
                key="non_finite",
            )
        image_ns = stamp_ns(msg.header)
        if image_ns > 0:
            latency["end to end (stamp to publish)"] = (
                self.get_clock().now().nanoseconds - image_ns
            ) / 1e6
        self.stats.frame_processed(
            latency, people, non_finite, default_k=not result.intrinsics.from_camera_info
        )

    def _report_device(self, pipeline: Any) -> None:
        """The pipeline's device health (device, fallback, out-of-memory counts) into the
        diagnostics; pipelines without it (test doubles) report nothing more."""
        health = getattr(pipeline, "device_health", None)
        if callable(health):
            self.stats.set_info(**health())

    # ----------------------------------------------------------------- shutdown
    def stop(self) -> bool:
        """Stop inference and clear RViz, in at most ~STOP_JOIN_S + 1 s. A model load or frame
        still running after STOP_JOIN_S is abandoned (the thread is a daemon and publishes
        nothing more). False when the inference thread had to be abandoned."""
        self._stop.set()
        self._slot.close()
        self._stages.wake()
        self._worker.join(STOP_JOIN_S)
        finished = not self._worker.is_alive()
        if not finished:
            what = "the model load" if self._pipeline is None else "the frame in progress"
            self.get_logger().info(f"stopping: abandoning {what}")
        # Taken (not waited on forever): a frame being published finishes first.
        locked = self._publish_lock.acquire(timeout=STOP_JOIN_S)
        if self.fatal_error is None and locked:
            self._publisher.clear_markers()
        self._core_log.detach()
        return finished


def main(args: list[str] | None = None, pipeline_factory: PipelineFactory = load_pipeline) -> int:
    """Run the node until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad parameters or model
    files, 1 on another failure."""
    limit_heap_arenas()  # before any thread starts (see pipeline.memory)
    stop = threading.Event()

    def request_stop(*_) -> None:
        stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal ends it at once
            signal.signal(sig, signal.SIG_DFL)

    # Our own handlers (not rclpy's): the node stays usable while it stops, so it can join its
    # thread and delete its markers before the context goes away.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    try:
        node = PymafxNode(pipeline_factory)
    except (ParameterError, StartupError) as exc:
        print(f"[pymafx] refusing to start: {exc}", file=sys.stderr, flush=True)
        rclpy.try_shutdown()
        return 2
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    finished = True
    try:
        while not stop.is_set() and node.fatal_error is None and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    finally:
        finished = node.stop()
        if node.fatal_error is not None:
            node.get_logger().fatal(node.fatal_error)
        executor.remove_node(node)
        node.destroy_node()
        rclpy.try_shutdown()
    code = node.fatal_exit_code if node.fatal_error is not None else 0
    if not finished:
        # The abandoned thread is inside native code (torch, MediaPipe); interpreter
        # finalization would run their teardown under it. Everything of ours is closed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
