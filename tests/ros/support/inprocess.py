"""The real node in this test process, on its own rclpy context, with a chosen pipeline: tests
reach its subscription callbacks directly (fuzzing thousands of messages) or over DDS, and can
look at its statistics and at what the pipeline was given."""

from __future__ import annotations

import threading
import time
from typing import Any

import rclpy
from graph import wait_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

from pymafx_ros.ros.node import PymafxNode


class InProcessNode:
    """``PymafxNode`` with ``pipeline`` (any object with the Pipeline interface; or None and a
    ``factory`` that builds it from the node's PipelineConfig, as the real node does) and parameter
    ``overrides``, spun by a background thread until ``close``."""

    def __init__(
        self,
        pipeline: Any,
        factory: Any = None,
        load_timeout: float = 60.0,
        **overrides: Any,
    ) -> None:
        self.pipeline = pipeline
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        params = [Parameter(name, value=value) for name, value in overrides.items()]
        self.node = PymafxNode(
            factory or (lambda config: pipeline),
            context=self.context,
            parameter_overrides=params,
        )
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        try:
            wait_until(
                lambda: self.node.stats.snapshot().state in ("running", "failed"),
                load_timeout,
                "the model",
            )
            assert self.node.stats.snapshot().state == "running", "the model failed to load"
        except BaseException:
            self.close()  # a node left spinning would answer the next tests' frames
            raise

    def _spin(self) -> None:
        while not self._closing.is_set():
            self._executor.spin_once(timeout_sec=0.05)

    def callback(self, topic: str):
        """The subscription callback the node registered for ``topic`` (relative name)."""
        resolved = self.node.resolve_topic_name(topic)
        for subscription in self.node.subscriptions:
            if subscription.topic_name == resolved:
                return subscription.callback
        raise KeyError(f"no subscription on {resolved}")

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no frame is waiting or being processed."""
        deadline = time.monotonic() + timeout
        while self.node.frames_pending() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert not self.node.frames_pending(), "the node did not finish its frame"

    def close(self) -> None:
        self.node.stop()
        self._closing.set()
        self._thread.join(5.0)
        self._executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
