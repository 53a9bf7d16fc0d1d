"""The node's rate limiters and marker id numbers (no ROS graph)."""

from __future__ import annotations

from pymafx_ros.ros.markers import id_number
from pymafx_ros.ros.throttle import KeyedThrottle, StampRateLimiter


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
