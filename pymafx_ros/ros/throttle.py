"""Rate limits: markers by image stamp, log messages per key by wall clock."""

from __future__ import annotations

import threading
import time


class StampRateLimiter:
    """Lets an event through at most ``max_rate_hz`` times per second of image time.

    Image stamps rather than wall time: a replayed bag gives the same result at any speed. A stamp
    going backwards (a bag restarting) starts over. ``max_rate_hz`` 0 lets everything through.
    """

    def __init__(self, max_rate_hz: float) -> None:
        self._period_ns = int(1e9 / max_rate_hz) if max_rate_hz > 0 else 0
        self._last_ns: int | None = None

    def allow(self, stamp_ns: int) -> bool:
        if self._last_ns is not None and 0 <= stamp_ns - self._last_ns < self._period_ns:
            return False
        self._last_ns = stamp_ns
        return True


class KeyedThrottle:
    """Admits a key at most once per ``period_s`` of wall time; counts what it held back.

    A gate, not a logger: the caller logs what is admitted from its own line (rclpy fixes the
    severity of each logging call site on first use). Thread-safe.
    """

    def __init__(self, period_s: float = 5.0, clock=time.monotonic) -> None:
        self._period = period_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def admit(self, key: str) -> int | None:
        """None to hold ``key`` back, else how many were held back since it last passed."""
        with self._lock:
            now = self._clock()
            last = self._last.get(key)
            if last is not None and now - last < self._period:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            if len(self._last) > 256:  # keys come from the wire (encodings): keep the map bounded
                self._last.clear()
                self._held.clear()
            self._last[key] = now
            return self._held.pop(key, 0)
