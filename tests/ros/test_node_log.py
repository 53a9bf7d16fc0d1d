"""The node's log on a real rclpy logger: any order of severities from the same code path works
(rclpy pins a call site's severity), keyed messages are throttled with a count of the rest."""

from __future__ import annotations

import rclpy
from rclpy.logging import LoggingSeverity

from pymafx_ros.ros.node_log import NodeLog


class Captured:
    """An rclpy logger whose calls are also recorded (it still goes through rclpy's checks)."""

    def __init__(self, name: str) -> None:
        self.logger = rclpy.logging.get_logger(name)
        self.logger.set_level(LoggingSeverity.FATAL)  # keep the test output quiet
        self.lines: list[tuple[str, str]] = []

    def __getattr__(self, severity: str):
        method = getattr(self.logger, severity)

        def log(text: str) -> bool:
            self.lines.append((severity, text))
            return method(text)

        return log


def test_warning_then_error_then_info_from_the_same_key_never_raises():
    log = NodeLog(rclpy.logging.get_logger("node_log_test_severity"))
    for _ in range(3):
        log.warning("no CameraInfo yet", key="k")
        log.error("processing failed", key="k2")
        log.info("model loaded")
        log.error("unkeyed error")
        log.warning("unkeyed warning")


def test_keyed_messages_are_throttled_and_counted():
    captured = Captured("node_log_test_throttle")
    log = NodeLog(captured, period_s=3600.0)
    for _ in range(4):
        log.warning("bad encoding", key="encoding")
    log.warning("bad layout", key="layout")
    assert captured.lines == [("warning", "bad encoding"), ("warning", "bad layout")]
    log = NodeLog(captured, period_s=0.0)
    log.error("a", key="x")
    log.error("b", key="x")
    assert captured.lines[-2:] == [("error", "a"), ("error", "b")]
