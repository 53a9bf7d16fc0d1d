"""Rate limits: markers by image stamp, warnings per key by wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable


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
    """Calls ``emit`` for a key at most once per ``period_s``; counts what it held back."""

    def __init__(
        self, emit: Callable[[str], None], period_s: float = 5.0, clock=time.monotonic
    ) -> None:
        self._emit = emit
        self._period = period_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, key: str, text: str) -> None:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._period:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        if len(self._last) > 256:  # keys come from the wire (encodings): keep the map bounded
            self._last.clear()
        self._last[key] = now
        self._emit(text if not held else f"{text} ({held} more like this since the last one)")
