"""The node's log: rclpy's logger with per-key throttling for messages that can fire per frame,
and the forwarding of the core's Python logging into it.

rclpy fixes a logging call site's severity on first use and raises ``ValueError`` when the same
line later logs at another severity, so every severity is logged from its own line here.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from pymafx_ros.ros.throttle import KeyedThrottle

THROTTLE_PERIOD_S = 5.0


def with_held(text: str, held: int) -> str:
    """``text`` plus how many similar messages were held back since the last one."""
    return text if not held else f"{text} ({held} more like this since the last one)"


class NodeLog:
    """Info, warning and error to a node's logger (so /rosout); with a ``key``, at most one
    message per key every ``period_s`` seconds, the held-back ones counted in the next."""

    def __init__(self, logger: Any, period_s: float = THROTTLE_PERIOD_S) -> None:
        self._logger = logger
        self._throttle = KeyedThrottle(period_s)

    def _admitted(self, text: str, key: str | None) -> str | None:
        if key is None:
            return text
        held = self._throttle.admit(key)
        return None if held is None else with_held(text, held)

    def info(self, text: str, key: str | None = None) -> None:
        if (text := self._admitted(text, key)) is not None:
            self._logger.info(text)

    def warning(self, text: str, key: str | None = None) -> None:
        if (text := self._admitted(text, key)) is not None:
            self._logger.warning(text)

    def error(self, text: str, key: str | None = None) -> None:
        if (text := self._admitted(text, key)) is not None:
            self._logger.error(text)


class CoreLogForwarder(logging.Handler):
    """Sends the core's Python logging (``pymafx_ros.*``: pipeline, front end, model loading)
    to the node's log, so it reaches /rosout under the node's name. Each message template is
    throttled like a keyed node message, since some fire on every frame."""

    def __init__(self, log: NodeLog, logger_name: str = "pymafx_ros") -> None:
        super().__init__()
        self._log = log
        self._logger = logging.getLogger(logger_name)

    def attach(self, level: int = logging.INFO) -> CoreLogForwarder:
        """Start forwarding records of ``level`` and above."""
        self._logger.addHandler(self)
        self._logger.setLevel(level)
        return self

    def detach(self) -> None:
        self._logger.removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"[{record.name}] {record.getMessage()}"
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            key = f"core:{record.name}:{record.msg}"
            if record.levelno >= logging.ERROR:
                self._log.error(text, key)
            elif record.levelno >= logging.WARNING:
                self._log.warning(text, key)
            else:
                self._log.info(text, key)
        except Exception:
            self.handleError(record)
