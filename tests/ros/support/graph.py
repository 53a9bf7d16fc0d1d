"""Cross-process test helpers: start the node as a subprocess, and a probe node (own context,
spinning in a thread) that publishes frames and collects what the node publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile

REPO = Path(__file__).resolve().parents[3]
FAKE_NODE = Path(__file__).resolve().parent / "fake_node.py"


def node_env(**extra: str) -> dict[str, str]:
    """The test's environment (scripts/env.sh already sourced), the source tree first on the path
    so the node runs this checkout's code, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env["RCUTILS_COLORIZED_OUTPUT"] = "0"
    env.update(extra)
    return env


class NodeProcess:
    """A node subprocess whose stdout+stderr go to a log file."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in wait())
        self.proc = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=REPO
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait; kills (and fails loudly) if the node does not stop in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"node did not stop within {timeout} s:\n{self.log()}") from None

    def rss_kib(self) -> int:
        """Resident memory of the node process (KiB), from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def start_fake_node(ros_args: list[str], log_path: Path, **env: str) -> NodeProcess:
    """The real node's main() over the test-double pipeline (tests/ros/support/fake_pipeline)."""
    command = [sys.executable, str(FAKE_NODE), "--ros-args", *ros_args]
    return NodeProcess(command, log_path, node_env(**env))


def start_real_node(ros_args: list[str], log_path: Path, **env: str) -> NodeProcess:
    """The node with the real pipeline, as ``python -m pymafx_ros.ros.node``."""
    command = [sys.executable, "-m", "pymafx_ros.ros.node", "--ros-args", *ros_args]
    return NodeProcess(command, log_path, node_env(**env))


class Probe:
    """A test-side node in its own context, spun by a background thread."""

    def __init__(self, name: str) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._closing.is_set():
            self._executor.spin_once(timeout_sec=0.05)

    def collect(self, msg_type: Any, topic: str, qos: QoSProfile | int = 10) -> list[Any]:
        """A list that fills with every message received on ``topic``."""
        received: list[Any] = []

        def store(msg: Any) -> None:
            with self._lock:
                received.append(msg)

        self.node.create_subscription(msg_type, topic, store, qos)
        return received

    def publisher(self, msg_type: Any, topic: str, qos: QoSProfile | int = 10):
        return self.node.create_publisher(msg_type, topic, qos)

    def call(self, client: Any, request: Any, timeout: float = 10.0) -> Any:
        assert client.wait_for_service(timeout_sec=timeout), f"no service {client.srv_name}"
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert future.done(), f"service {client.srv_name} did not answer in {timeout} s"
        return future.result()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(5.0)
        self._executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stamp_ns(header: Any) -> int:
    return header.stamp.sec * 10**9 + header.stamp.nanosec


def latest_status(diagnostics: list[Any], suffix: str) -> Any | None:
    """The newest DiagnosticStatus whose name ends with ``suffix`` (e.g. ": inference")."""
    for array in reversed(list(diagnostics)):
        for status in array.status:
            if status.name.endswith(suffix):
                return status
    return None


def status_values(diagnostics: list[Any], suffix: str) -> dict[str, str]:
    """key -> value of the newest status named ``...suffix`` ({} before the first one)."""
    status = latest_status(diagnostics, suffix)
    return {} if status is None else {kv.key: kv.value for kv in status.values}
