"""The node's log: rclpy's logger with per-key throttling for messages that can fire per frame.

rclpy fixes a logging call site's severity on first use and raises ``ValueError`` when the same
line later logs at another severity, so every severity is logged from its own line here.
"""

from __future__ import annotations

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
