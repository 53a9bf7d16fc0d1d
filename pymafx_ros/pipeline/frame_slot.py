"""A one-item mailbox between a producer of frames (ROS callbacks, a reader) and the worker.

Callbacks ``put`` the newest frame and return at once; the worker ``take``s it. A frame that
arrives before the worker took the previous one replaces it (the old one is counted as
dropped), so the worker always processes the newest image and latency never accumulates.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class NewestFrameSlot(Generic[T]):
    """Thread-safe slot holding at most one waiting item."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self._in_progress = False
        self.dropped = 0

    def put(self, item: T) -> bool:
        """Store ``item``; True when it replaced one that was never taken (a dropped frame)."""
        with self._cond:
            replaced = self._item is not None
            if replaced:
                self.dropped += 1
            self._item = item
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """Wait up to ``timeout`` seconds for an item; None on timeout or once closed.

        A returned item counts as in progress until ``done`` is called."""
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            if self._closed:
                return None
            self._in_progress = item is not None
            return item

    def done(self) -> None:
        """The item last taken is finished."""
        with self._cond:
            self._in_progress = False

    def pending(self) -> int:
        """Items waiting or in progress (0, 1 or 2)."""
        with self._cond:
            return int(self._item is not None) + int(self._in_progress)

    def clear(self) -> None:
        """Forget a waiting item without counting it as dropped (e.g. when paused)."""
        with self._cond:
            self._item = None

    def close(self) -> None:
        """Wake every waiter; later ``take`` calls return None at once."""
        with self._cond:
            self._closed = True
            self._item = None
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
