"""The newest-frame slot, the rate limiters and marker id numbers (no ROS graph)."""

from __future__ import annotations

import threading

from pymafx_ros.ros.frame_slot import NewestFrameSlot
from pymafx_ros.ros.markers import id_number
from pymafx_ros.ros.throttle import KeyedThrottle, StampRateLimiter


def test_newest_frame_replaces_the_waiting_one():
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True  # 1 was never taken: dropped
    assert slot.put(3) is True
    assert slot.dropped == 2
    assert slot.take(0.0) == 3
    assert slot.take(0.0) is None
    assert slot.put(4) is False  # the slot was empty again


def test_pending_counts_waiting_and_in_progress_items():
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    assert slot.pending() == 0
    slot.put(1)
    assert slot.pending() == 1
    assert slot.take(0.0) == 1
    assert slot.pending() == 1  # taken, not done
    slot.put(2)
    assert slot.pending() == 2
    slot.done()
    assert slot.pending() == 1
    assert slot.take(0.0) == 2 and slot.take(0.0) is None  # a timeout clears in-progress
    assert slot.pending() == 0


def test_clear_forgets_without_counting_a_drop():
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    slot.put(1)
    slot.clear()
    assert slot.take(0.0) is None
    assert slot.dropped == 0


def test_close_wakes_a_waiting_taker():
    slot: NewestFrameSlot[int] = NewestFrameSlot()
    results = []
    taker = threading.Thread(target=lambda: results.append(slot.take(timeout=30.0)))
    taker.start()
    slot.close()
    taker.join(5.0)
    assert not taker.is_alive()
    assert results == [None]
    assert slot.put(1) is False and slot.take(0.0) is None  # closed stays closed


def test_taker_gets_an_item_put_from_another_thread():
    slot: NewestFrameSlot[str] = NewestFrameSlot()
    putter = threading.Timer(0.05, lambda: slot.put("frame"))
    putter.start()
    assert slot.take(timeout=10.0) == "frame"
    putter.join()


def test_stamp_rate_limiter_uses_image_time():
    limiter = StampRateLimiter(max_rate_hz=10.0)  # at most one per 100 ms of stamps
    stamps_ms = [0, 50, 99, 100, 150, 230, 260]
    allowed = [limiter.allow(ms * 1_000_000) for ms in stamps_ms]
    assert allowed == [True, False, False, True, False, True, False]
    assert limiter.allow(10 * 1_000_000)  # stamps went backwards (bag restart): start over


def test_stamp_rate_limiter_zero_means_unlimited():
    limiter = StampRateLimiter(0.0)
    assert all(limiter.allow(0) for _ in range(5))


def test_keyed_throttle_counts_what_it_held_back():
    now = [0.0]
    throttle = KeyedThrottle(period_s=5.0, clock=lambda: now[0])
    admitted = [throttle.admit("a"), throttle.admit("a"), throttle.admit("b")]
    assert admitted == [0, None, 0]  # another key is not held back
    now[0] = 6.0
    assert throttle.admit("a") == 1  # one held back since "a" last passed


def test_id_numbers_are_stable():
    assert id_number("p7") == 7
    assert id_number("alice") == id_number("alice") >= 0
