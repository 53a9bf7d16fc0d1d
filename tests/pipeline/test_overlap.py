"""The two-stage runner with stand-in stages (sleeps): order, nothing dropped but replaced
frames, the hand-off rule (the next front end starts after ``release``), backpressure, the
serial mode, just-in-time starts, failures and stopping."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from pymafx_ros.pipeline.frame_slot import NewestFrameSlot
from pymafx_ros.pipeline.overlap import END, TwoStages


class Recorder:
    """Stand-in stages that sleep and log (event, item, time) under a lock."""

    def __init__(self, front_s: float, back_s: float, release_at: float = 0.1) -> None:
        self.front_s, self.back_s, self.release_at = front_s, back_s, release_at
        self.events: list[tuple[str, int, float]] = []
        self._lock = threading.Lock()

    def log(self, event: str, item: int) -> None:
        with self._lock:
            self.events.append((event, item, time.perf_counter()))

    def front(self, item: int) -> int:
        self.log("front start", item)
        time.sleep(self.front_s)
        self.log("front end", item)
        return item

    def back(self, item: int, release) -> None:
        self.log("back start", item)
        time.sleep(self.back_s * self.release_at)
        self.log("release", item)
        release()
        time.sleep(self.back_s * (1 - self.release_at))
        self.log("back end", item)

    def items(self, event: str) -> list[int]:
        return [item for name, item, _ in self.events if name == event]

    def at(self, event: str, item: int) -> float:
        return next(t for name, i, t in self.events if name == event and i == item)


def from_list(values: list[int]):
    it = iter(values)
    return lambda _timeout: next(it, END)


def run_offline(recorder: Recorder, count: int, **options) -> float:
    stages = TwoStages(from_list(list(range(count))), recorder.front, recorder.back, **options)
    start = time.perf_counter()
    stages.run()
    return time.perf_counter() - start


@pytest.mark.parametrize("overlap", [True, False])
def test_offline_input_is_processed_whole_and_in_order(overlap) -> None:
    recorder = Recorder(front_s=0.01, back_s=0.02)
    run_offline(recorder, 12, overlap=overlap, just_in_time=False)
    assert recorder.items("back end") == list(range(12))
    assert recorder.items("front end") == list(range(12))


def test_the_next_front_end_starts_after_the_release() -> None:
    recorder = Recorder(front_s=0.005, back_s=0.04, release_at=0.5)
    run_offline(recorder, 8, just_in_time=False)
    for item in range(7):
        assert recorder.at("front start", item + 1) >= recorder.at("release", item)
        # ... and beside the back end of the item before (overlap).
        assert recorder.at("front start", item + 1) < recorder.at("back end", item)


def test_without_overlap_the_stages_take_turns() -> None:
    recorder = Recorder(front_s=0.01, back_s=0.02)
    run_offline(recorder, 6, overlap=False)
    for item in range(5):
        assert recorder.at("front start", item + 1) >= recorder.at("back end", item)


def test_overlap_runs_at_the_slower_stage_rate() -> None:
    # Sleeps need no core, so the figure holds on a busy machine.
    serial = run_offline(Recorder(0.03, 0.05), 10, overlap=False)
    overlapped = run_offline(Recorder(0.03, 0.05), 10, just_in_time=False)
    assert serial > 10 * 0.08
    assert overlapped < 0.8 * serial


class Camera:
    """Puts increasing stamps into a newest-frame slot every ``period_s`` on a thread."""

    def __init__(self, slot: NewestFrameSlot[int], period_s: float, count: int) -> None:
        self.slot, self.period_s, self.count = slot, period_s, count
        self.sent = 0
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        for stamp in range(self.count):
            self.slot.put(stamp)
            self.sent += 1
            time.sleep(self.period_s)

    def __enter__(self) -> Camera:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.thread.join()


def run_live(recorder: Recorder, count: int, period_s: float, **options) -> NewestFrameSlot:
    """A camera faster than the stages; stops once the camera ended and all is done."""
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    stages = TwoStages(slot.take, recorder.front, recorder.back, **options)
    stop = threading.Event()
    runner = threading.Thread(target=stages.run, args=(stop,))
    with Camera(slot, period_s, count):
        runner.start()
    deadline = time.monotonic() + 5
    while (slot.pending() or stages.in_flight()) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert slot.pending() == 0 and stages.in_flight() == 0
    stop.set()
    runner.join(2)
    assert not runner.is_alive()
    return slot


@pytest.mark.parametrize("overlap", [True, False])
def test_live_stamps_increase_and_only_replaced_frames_are_missing(overlap) -> None:
    recorder = Recorder(front_s=0.01, back_s=0.025)
    slot = run_live(recorder, count=60, period_s=0.004, overlap=overlap)
    processed = recorder.items("back end")
    assert all(a < b for a, b in itertools.pairwise(processed))
    # Every begun front end reached the back end; what is missing was replaced in the slot.
    assert recorder.items("front start") == processed
    assert len(processed) + slot.dropped == 60
    assert processed[-1] == 59  # the newest frame is never lost


def test_just_in_time_takes_fresh_frames_and_keeps_the_throughput() -> None:
    # Back 60 ms, front 20 ms: an eager front end would take a frame 40 ms too early and let
    # it wait; just in time starts it ~40 ms into the back end, so it hardly waits.
    def waits(**options) -> tuple[list[float], float]:
        recorder = Recorder(front_s=0.02, back_s=0.06)
        run_live(recorder, count=250, period_s=0.004, **options)
        processed = recorder.items("back end")[3:]  # after the running means settled
        waited = [recorder.at("back start", i) - recorder.at("front end", i) for i in processed]
        span = recorder.at("back end", processed[-1]) - recorder.at("back end", processed[0])
        return waited, span / (len(processed) - 1)

    eager_wait, _ = waits(just_in_time=False)
    jit_wait, jit_period = waits(just_in_time=True)
    assert sorted(eager_wait)[len(eager_wait) // 2] > 0.03
    assert sorted(jit_wait)[len(jit_wait) // 2] < 0.015
    assert jit_period < 0.06 + 0.015  # still about one frame per back end, not front + back


def test_a_failing_front_end_costs_its_item_only() -> None:
    failures: list[Exception] = []
    done: list[int] = []

    def front(item: int) -> int:
        if item == 2:
            raise ValueError("bad frame")
        return item

    back = lambda item, _release: done.append(item)  # noqa: E731
    stages = TwoStages(from_list([0, 1, 2, 3]), front, back, on_error=failures.append)
    stages.run()
    assert done == [0, 1, 3] and len(failures) == 1


def test_a_front_end_that_skips_an_item_keeps_the_rest() -> None:
    done: list[int] = []
    front = lambda item: None if item % 2 else item  # noqa: E731
    TwoStages(from_list(list(range(6))), front, lambda i, _r: done.append(i)).run()
    assert done == [0, 2, 4]


def test_a_back_end_exception_ends_run_and_the_front_end_thread() -> None:
    def back(item: int, _release) -> None:
        if item == 1:
            raise SystemExit("the inference thread ends")

    stages = TwoStages(from_list(list(range(100))), lambda i: i, back)
    with pytest.raises(SystemExit):
        stages.run()
    assert stages.idle()


def test_a_dead_front_end_thread_ends_run_with_its_exception() -> None:
    def take(_timeout: float) -> int:
        raise OSError("the video ended badly")

    with pytest.raises(OSError, match="ended badly"):
        TwoStages(take, lambda i: i, lambda i, _r: None).run()


def test_stop_ends_run_while_no_input_comes() -> None:
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    stages = TwoStages(slot.take, lambda i: i, lambda i, _r: None)
    stop = threading.Event()
    runner = threading.Thread(target=stages.run, args=(stop,))
    runner.start()
    time.sleep(0.05)
    stop.set()
    runner.join(1.0)
    assert not runner.is_alive() and stages.idle()
