"""The newest-frame slot between a frame producer and the worker."""

from __future__ import annotations

import threading

from pymafx_ros.pipeline.frame_slot import NewestFrameSlot


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
