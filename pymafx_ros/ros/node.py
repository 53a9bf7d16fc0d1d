"""The pymafx ROS 2 node: camera images in; SMPL-X people, TF, markers, overlay, diagnostics out.

A thin adapter: callbacks validate cheaply and store the newest frame; one inference thread loads
the pipeline, then decodes, runs and publishes; the main thread only spins the executor, so
parameter/service requests are answered while inference runs. Every output carries the header
of the image it came from.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pymafx_ros.msg import HandKeypointsArray, SmplxModelInfo, SmplxPeople
from pymafx_ros.ros.conversions import (
    RejectedImageError,
    camera_info_to_intrinsics,
    check_compressed,
    check_image,
    compressed_to_rgb,
    image_to_rgb,
)
from pymafx_ros.ros.diagnostics import NodeStats, diagnostic_array
from pymafx_ros.ros.frame_slot import NewestFrameSlot
from pymafx_ros.ros.node_log import NodeLog
from pymafx_ros.ros.parameters import NodeParameters, ParameterError, declare_and_validate
from pymafx_ros.ros.publishing import FramePublisher
from pymafx_ros.ros.tf_builder import make_tf_sender
from pymafx_ros.ros.world_frame import WorldFramePublisher

NODE_NAME = "pymafx"
PEOPLE_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
# Reliable so that both reliable (RViz's default) and best-effort subscribers receive them.
MARKERS_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
OVERLAY_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
HANDS_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
WATCHDOG_PERIOD_S = 0.5
# Longest wait for the inference thread when stopping; a model load or frame still running then
# is abandoned, so the node exits well within launch's 5 s before it escalates to SIGTERM.
STOP_JOIN_S = 1.5

PipelineFactory = Callable[[dict[str, Any]], Any]


def pipeline_options(params: NodeParameters) -> dict[str, Any]:
    """The node parameters as PipelineConfig keyword arguments."""
    wants_mesh = params.markers_mesh_decimation > 0.0 and (
        params.markers_enable or params.overlay_enable
    )
    return {
        "data_dir": params.data_dir or None,
        "checkpoint": params.checkpoint or None,
        "detector": params.detector,
        "max_people": params.max_people,
        "min_person_score": params.min_person_score,
        "default_fov_deg": params.default_fov_deg,
        "with_vertices": wants_mesh,
        "device": params.device,
        "num_threads": params.num_threads,
        "tracking": params.tracking,
    }


def load_pipeline(options: dict[str, Any]) -> Any:
    """Build the real pipeline (imported here: torch and the model load in the worker thread)."""
    import torch

    from pymafx_ros.pipeline.pipeline import Pipeline, PipelineConfig
    from pymafx_ros.tracking.people import TrackingConfig

    if options["device"] == "auto":
        options = {**options, "device": "cuda" if torch.cuda.is_available() else "cpu"}
    tracking = TrackingConfig.from_dict(options.get("tracking", {}))
    return Pipeline(PipelineConfig(**{**options, "tracking": tracking}))


def stamp_ns(header: Header) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


class PymafxNode(Node):
    """Declares parameters, topics and the service; owns the inference thread."""

    def __init__(self, pipeline_factory: PipelineFactory = load_pipeline, **node_kwargs) -> None:
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = declare_and_validate(self)
        self.stats = NodeStats()
        self.fatal_error: str | None = None
        self._log = NodeLog(self.get_logger())
        self._slot: NewestFrameSlot[Any] = NewestFrameSlot()
        self._camera_info: CameraInfo | None = None
        self._enabled = threading.Event()
        self._enabled.set()
        self._stop = threading.Event()
        # Held while publishing a frame's outputs; stop() takes it, so after it nothing is sent.
        self._publish_lock = threading.Lock()

        self._create_publishers()
        self._image_topic = (
            "image/compressed" if self.params.input_transport == "compressed" else "image"
        )
        image_type = CompressedImage if self.params.input_transport == "compressed" else Image
        sensor = qos_profile_sensor_data
        self.create_subscription(image_type, self._image_topic, self._on_image, sensor)
        self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, sensor)
        self._create_enable_service()
        self.create_timer(self.params.diagnostics_period_s, self._publish_diagnostics)

        self._publisher = FramePublisher(self, self.tf_mechanism)
        self._pipeline_factory = pipeline_factory
        self._pipeline: Any = None
        self._worker_failure: str | None = None
        self._worker = self._start_worker()
        self.create_timer(WATCHDOG_PERIOD_S, self._watch_worker)

    def _create_publishers(self) -> None:
        params = self.params
        self.people_pub = self.create_publisher(SmplxPeople, "~/people", PEOPLE_QOS)
        self.model_info_pub = self.create_publisher(SmplxModelInfo, "~/model_info", LATCHED_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.markers_pub = (
            self.create_publisher(MarkerArray, "~/markers", MARKERS_QOS)
            if params.markers_enable
            else None
        )
        self.overlay_pub = (
            self.create_publisher(Image, "~/overlay", OVERLAY_QOS)
            if params.overlay_enable
            else None
        )
        self.send_tf, self.tf_mechanism = (
            make_tf_sender(self) if params.tf_enable else (None, "disabled")
        )
        self.hands_pub = (
            self.create_publisher(HandKeypointsArray, "~/hands", HANDS_QOS)
            if params.hands_enable
            else None
        )
        self.world = WorldFramePublisher(self, params.world_frame) if params.world_frame else None
        self.stats.set_world(
            self.world.status if self.world else "world_frame not set: ~/world_bodies is off"
        )

    # ----------------------------------------------------------------- callbacks (executor)
    def _on_image(self, msg: Image | CompressedImage) -> None:
        if not self._enabled.is_set():
            return
        # Header checks only (no pixels read): a refused message never displaces a good frame.
        try:
            if isinstance(msg, Image):
                check_image(msg, self.params.max_image_pixels)
            else:
                check_compressed(msg, self.params.max_image_pixels)
        except RejectedImageError as exc:
            self.stats.message_rejected(exc.reason)
            key = f"{exc.reason}:{getattr(msg, 'encoding', getattr(msg, 'format', ''))}"
            self._log.warning(f"rejected image on '{self._topic_name()}': {exc}", key)
            return
        replaced = self._slot.put((msg, time.monotonic()))
        self.stats.frame_received(replaced)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def _topic_name(self) -> str:
        return self.resolve_topic_name(self._image_topic)

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
        header = Header(stamp=self.get_clock().now().to_msg())
        self.stats.pending = self._slot.pending()
        name = self.get_fully_qualified_name().lstrip("/")  # e.g. "cam1/pymafx"
        status = diagnostic_array(self.stats.snapshot(), name, header)
        self.diagnostics_pub.publish(status)

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
            if self._stop.is_set() and self._pipeline is not None:
                self._pipeline.close()

    def _load_pipeline(self) -> bool:
        self.stats.set_state("loading model", device=self.params.device)
        try:
            pipeline = self._pipeline_factory(pipeline_options(self.params))
        except Exception as exc:  # any load failure ends the node with a clear message
            self.fatal_error = f"could not load the pipeline: {type(exc).__name__}: {exc}"
            self.stats.set_state("failed")
            return False
        self._pipeline = pipeline
        config = getattr(pipeline, "config", None)
        self.stats.set_state("loaded", device=str(getattr(config, "device", "unknown")))
        with self._publish_lock:
            if self._stop.is_set():
                return False
            self._publisher.model_loaded(pipeline.model_info)
        return True

    def _serve_frames(self) -> None:
        """Take the newest frame and process it; an exception costs that frame only."""
        if self._enabled.is_set():
            self.stats.set_state("running")
        while not self._stop.is_set():
            item = self._slot.take(timeout=0.5)
            if item is None:
                continue
            try:
                if self._enabled.is_set():
                    self._process(self._pipeline, *item)
            except Exception as exc:  # a bug in our code: log it, count it, take the next frame
                self.stats.frame_failed("internal_error")
                self._log.error(
                    f"processing a frame failed in the node:\n{traceback.format_exc(limit=8)}",
                    key=f"internal:{type(exc).__name__}",
                )
            finally:
                self._slot.done()

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

    def _process(self, pipeline: Any, msg: Image | CompressedImage, received_at: float) -> None:
        started = time.perf_counter()
        try:
            limit = self.params.max_image_pixels
            if isinstance(msg, CompressedImage):
                rgb = compressed_to_rgb(msg, limit)
            else:
                rgb = image_to_rgb(msg, limit)
        except RejectedImageError as exc:
            self.stats.message_rejected(exc.reason)
            self._log.warning(f"rejected image on '{self._topic_name()}': {exc}", exc.reason)
            return
        height, width = rgb.shape[:2]
        info = self._camera_info
        intrinsics = camera_info_to_intrinsics(info, width, height) if info is not None else None
        if intrinsics is None:
            why = "no CameraInfo yet" if info is None else "CameraInfo is uncalibrated (K[0]==0)"
            self._log.warning(
                f"{why} on '{self.resolve_topic_name('camera_info')}': using the default pinhole "
                f"with a {self.params.default_fov_deg} deg horizontal field of view",
                key="intrinsics",
            )
        decoded = time.perf_counter()
        timestamp_ms = self._publisher.next_timestamp_ms(msg.header)
        try:
            result = pipeline.process(rgb, intrinsics=intrinsics, timestamp_ms=timestamp_ms)
        except Exception as exc:  # one bad frame must not end the node
            self.stats.frame_failed("processing_error")
            text = f"the pipeline failed on a frame: {type(exc).__name__}: {exc}"
            self._log.warning(text, key=f"pipeline:{type(exc).__name__}")
            return
        inferred = time.perf_counter()
        latency = {f"stage {k}": v for k, v in result.timings_ms.items()}
        latency["decode"] = 1e3 * (decoded - started)
        latency["pipeline"] = 1e3 * (inferred - decoded)
        latency["queue wait"] = 1e3 * (started - received_at)
        with self._publish_lock:
            if self._stop.is_set():
                return
            people, non_finite = self._publisher.publish_frame(msg.header, rgb, result)
        latency["publish"] = 1e3 * (time.perf_counter() - inferred)
        image_ns = stamp_ns(msg.header)
        if image_ns > 0:
            latency["end to end (stamp to publish)"] = (
                self.get_clock().now().nanoseconds - image_ns
            ) / 1e6
        self.stats.frame_processed(
            latency, people, non_finite, default_k=not result.intrinsics.from_camera_info
        )

    # ----------------------------------------------------------------- shutdown
    def stop(self) -> bool:
        """Stop inference and clear RViz, in at most ~STOP_JOIN_S + 1 s. A model load or frame
        still running after STOP_JOIN_S is abandoned (the thread is a daemon and publishes
        nothing more). False when the inference thread had to be abandoned."""
        self._stop.set()
        self._slot.close()
        self._worker.join(STOP_JOIN_S)
        finished = not self._worker.is_alive()
        if not finished:
            what = "the model load" if self._pipeline is None else "the frame in progress"
            self.get_logger().info(f"stopping: abandoning {what}")
        # Taken (not waited on forever): a frame being published finishes first.
        locked = self._publish_lock.acquire(timeout=STOP_JOIN_S)
        if self.fatal_error is None and locked:
            self._publisher.clear_markers()
        return finished


def main(args: list[str] | None = None, pipeline_factory: PipelineFactory = load_pipeline) -> int:
    """Run the node until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad parameters, 1 on failure."""
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
    except ParameterError as exc:
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
    code = 1 if node.fatal_error is not None else 0
    if not finished:
        # The abandoned thread is inside native code (torch, MediaPipe); interpreter
        # finalization would run their teardown under it. Everything of ours is closed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
