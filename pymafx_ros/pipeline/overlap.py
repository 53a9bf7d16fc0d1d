"""Two stages with one slot between them: the front end of frame t+1 runs beside the model on t.

The front-end thread takes the next input, runs ``front`` and hands the result over through a
one-item slot that never replaces (a begun front end is always finished by the back end); the
caller's thread runs ``back`` on each result in order. So tracking sees every frame whose front
end began, in input order, and the processed stamps stay increasing.

Two rules order the stages. The front end of item n+1 starts only after the back end of item n
called ``release`` (the pipeline does so once tracking took the frame: the detector's predicted
boxes for n+1 then come from the tracks after n, exactly as in a serial run). And, with
``just_in_time``, it starts when the back end's expected remaining time is about the front
end's expected time (medians of the last frames), or at once when the back end is idle: the
input taken is the newest the camera has, so a frame's latency stays about front end + back end
(as serial), while frames follow each other every max(front, back) instead of front + back.
Without just in time (offline inputs, where latency does not matter) it starts as soon as the
rule above allows.
``overlap`` False runs the stages one after the other (the front end waits for an idle back end).
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

LOG = logging.getLogger(__name__)

In = TypeVar("In")
Mid = TypeVar("Mid")

# Weight of a new duration in the reported running means (about the last ten frames count).
_MEAN_WEIGHT = 0.2
# The start is planned with the median of the last few durations: one slow frame (a busy
# core, a slow publish) would otherwise delay the next starts and leave the model idle.
_RECENT = 9
# The front end starts this share of its own time early: a little latency for fewer model
# waits when a frame's front end or model stage takes longer or shorter than usual.
_EARLY_SHARE = 0.1
# Longest sleep between checks of the stop flag, seconds.
_POLL_S = 0.2


class EndOfInput:
    """What ``take`` returns when an input (a file) has no more items."""


END = EndOfInput()


@dataclass
class StageTimes:
    """Running means of the two stages and of the waits between them, milliseconds."""

    front_ms: float = 0.0
    back_ms: float = 0.0
    back_idle_ms: float = 0.0  # the back end waiting for a front result
    handoff_wait_ms: float = 0.0  # a front result waiting for the back end
    frames: int = 0


@dataclass
class _Round:
    """One ``run``'s front-end thread: told to end, ended, and what ended it."""

    ending: bool = False
    front_ended: bool = False
    failure: BaseException | None = None


class _Recent:
    """The last ``_RECENT`` durations of a stage, seconds."""

    def __init__(self) -> None:
        self._values: deque[float] = deque(maxlen=_RECENT)

    def add(self, seconds: float) -> None:
        self._values.append(seconds)

    def median(self) -> float:
        return statistics.median(self._values) if self._values else 0.0


def _mean(old: float, new: float, first: bool) -> float:
    return new if first else old + _MEAN_WEIGHT * (new - old)


class TwoStages(Generic[In, Mid]):
    """Run ``front`` on a thread of its own and ``back`` on the thread calling ``run``.

    ``take(timeout_s)``: the next input, None when none came in time, ``END`` when there is no
    more. ``front(item)``: its front-end result, or None to skip it (rejected input).
    ``back(result, release)``: the rest; it calls ``release()`` once the next front end may
    start (the runner calls it too when ``back`` returns or raises; an exception out of ``back``
    ends ``run``). ``on_error(exc)``: an exception out of ``front``, whose item is skipped
    (without it the exception ends ``run``).
    """

    def __init__(
        self,
        take: Callable[[float], In | EndOfInput | None],
        front: Callable[[In], Mid | None],
        back: Callable[[Mid, Callable[[], None]], None],
        *,
        overlap: bool = True,
        just_in_time: bool = True,
        on_error: Callable[[Exception], None] | None = None,
        name: str = "pymafx-frontend",
    ) -> None:
        self._take = take
        self._front = front
        self._back = back
        self.overlap = overlap
        self.just_in_time = just_in_time
        self._on_error = on_error
        self._name = name
        self._cond = threading.Condition()
        self._waiting: list[tuple[Mid, float]] = []  # the slot: at most one (result, put at)
        self._released = True  # the back end released the last item handed over
        self._front_busy = False
        self._back_busy = False
        self._back_started = 0.0
        self._back_idle_since: float | None = None
        self._thread: threading.Thread | None = None
        self.times = StageTimes()
        self._recent_front = _Recent()
        self._recent_back = _Recent()

    # ------------------------------------------------------------------ back end (caller)
    def run(self, stop: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set or the input ended and everything begun is done. The
        front-end thread is told to end (and joined briefly) on the way out, whatever ends this;
        an exception that ended it is raised here."""
        stop = stop or threading.Event()
        round_ = _Round()
        with self._cond:
            self._waiting.clear()
            self._released = True
        thread = threading.Thread(target=self._front_loop, args=(stop, round_), name=self._name)
        thread.daemon = True  # MediaPipe cannot be interrupted; stopping must not wait for it
        self._thread = thread
        thread.start()
        try:
            while not stop.is_set():
                handed = self._next_result(stop, round_)
                if handed is not None:
                    self._serve(handed)
                    continue
                with self._cond:
                    if round_.front_ended and not self._waiting:
                        break
            if round_.failure is not None:
                raise round_.failure
        finally:
            with self._cond:
                round_.ending = True
                self._waiting.clear()
                self._cond.notify_all()
            thread.join(2 * _POLL_S)

    def _next_result(self, stop: threading.Event, round_: _Round) -> Mid | None:
        with self._cond:
            if self._back_idle_since is None:
                self._back_idle_since = time.perf_counter()
            self._cond.wait_for(
                lambda: bool(self._waiting) or round_.front_ended or stop.is_set(), _POLL_S
            )
            if not self._waiting:
                return None
            result, put_at = self._waiting.pop(0)
            now = time.perf_counter()
            first = self.times.frames == 0
            waited = 1e3 * (now - put_at)
            self.times.handoff_wait_ms = _mean(self.times.handoff_wait_ms, waited, first)
            idle = 1e3 * (now - self._back_idle_since)
            self.times.back_idle_ms = _mean(self.times.back_idle_ms, idle, first)
            self._back_idle_since = None
            self._back_busy = True
            self._back_started = now
            self._cond.notify_all()
            return result

    def _serve(self, result: Mid) -> None:
        released = threading.Event()

        def release() -> None:  # this item's: a late second call must not free the next one
            if not released.is_set():
                released.set()
                self._release()

        try:
            self._back(result, release)
        finally:
            release()
            with self._cond:
                took = 1e3 * (time.perf_counter() - self._back_started)
                self._recent_back.add(took / 1e3)
                self.times.back_ms = _mean(self.times.back_ms, took, self.times.frames == 0)
                self.times.frames += 1
                self._back_busy = False
                self._cond.notify_all()

    def _release(self) -> None:
        with self._cond:
            if not self._released:
                self._released = True
                self._cond.notify_all()

    # ------------------------------------------------------------------ front end (thread)
    def _may_start(self) -> float:
        """Seconds until the next front end may start (0: now); called under the lock."""
        if not self._released or self._waiting:
            return _POLL_S
        if not self._back_busy:
            return 0.0
        if not self.overlap:
            return _POLL_S
        if not self.just_in_time:
            return 0.0
        # The back end's expected end less the front end's expected time (and a little).
        front = (1 + _EARLY_SHARE) * self._recent_front.median()
        start_at = self._back_started + self._recent_back.median() - front
        return max(0.0, start_at - time.perf_counter())

    def _front_loop(self, stop: threading.Event, round_: _Round) -> None:
        try:
            while not (stop.is_set() or round_.ending):
                with self._cond:
                    wait_s = self._may_start()
                    if wait_s > 0:
                        self._cond.wait(min(wait_s, _POLL_S))
                        continue
                item = self._take(_POLL_S)
                if item is None:
                    continue
                if isinstance(item, EndOfInput):
                    break
                self._run_front(item, round_)
        except BaseException as exc:  # reported by run(), which ends: the caller restarts it
            round_.failure = exc
            LOG.exception("the front-end thread failed")
        finally:
            with self._cond:
                round_.front_ended = True
                self._cond.notify_all()

    def _run_front(self, item: In, round_: _Round) -> None:
        with self._cond:
            self._front_busy = True
        started = time.perf_counter()
        try:
            result = self._front(item)
        except Exception as exc:  # a bug in a front stage: that input is skipped
            if self._on_error is None:
                raise
            result = None
            self._on_error(exc)
        finally:
            with self._cond:
                took = 1e3 * (time.perf_counter() - started)
                self._recent_front.add(took / 1e3)
                self.times.front_ms = _mean(self.times.front_ms, took, self.times.front_ms == 0)
                self._front_busy = False
        if result is None:
            return
        with self._cond:
            if round_.ending:
                return  # run() is over: nobody would take it
            self._waiting.append((result, time.perf_counter()))
            self._released = False
            self._cond.notify_all()

    # ------------------------------------------------------------------ observers
    def in_flight(self) -> int:
        """Items past ``take`` and not yet done: in the front end, waiting, in the back end."""
        with self._cond:
            return int(self._front_busy) + len(self._waiting) + int(self._back_busy)

    def wake(self) -> None:
        """Let the stages see a ``stop`` just set now rather than at their next poll."""
        with self._cond:
            self._cond.notify_all()

    def idle(self) -> bool:
        """No front-end thread is running (none started, or the last one ended)."""
        return self._thread is None or not self._thread.is_alive()

    def snapshot(self) -> StageTimes:
        """A copy of the running means."""
        with self._cond:
            return StageTimes(**vars(self.times))
