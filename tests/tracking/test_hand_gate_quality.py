"""Hand-visibility hysteresis and the jitter figure."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.config import HandGateConfig
from pymafx_ros.tracking.hand_gate import HandGate
from pymafx_ros.tracking.quality import JitterMeter, high_pass_rms


def test_a_hand_lost_for_a_frame_or_two_stays_with_the_hand_expert():
    gate = HandGate(HandGateConfig(on_threshold=0.3, hold_frames=2))
    seen = [0.0, 0.2, 0.8, 0.0, 0.0, 0.7, 0.0, 0.0, 0.0, 0.05, 0.2, 0.5]
    out = [gate(v) for v in seen]
    assert out == [
        (0.0, False),  # off
        (0.1, False),  # under the on threshold: kept off (at the model's gate)
        (0.8, False),  # on
        (0.8, True),  # lost: held
        (0.8, True),
        (0.7, False),  # found again
        (0.7, True),
        (0.7, True),
        (0.0, False),  # lost for longer than hold_frames: off
        (0.05, False),
        (0.1, False),
        (0.5, False),
    ]


def test_no_hold_is_the_release_behaviour():
    gate = HandGate(HandGateConfig(on_threshold=0.1, hold_frames=0))
    assert [gate(v)[0] for v in (0.5, 0.0, 0.2, 0.05)] == [0.5, 0.0, 0.2, 0.05]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"tracking\.hand_on_threshold"):
        HandGateConfig(on_threshold=1.5).validate()
    with pytest.raises(ValueError, match=r"tracking\.hand_hold_frames"):
        HandGateConfig(hold_frames=-1).validate()


def test_steady_motion_has_no_jitter_and_noise_has_its_rms():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.02, 0.05, 11))  # irregular stamps
    moving = np.array([0.1, -0.3, 2.0]) + t[:, None, None] * np.array([1.0, 0.5, -0.2])
    moving = np.repeat(moving, 5, axis=1)  # (11, 5, 3)
    assert high_pass_rms(t, moving) == pytest.approx(0.0, abs=1e-12)
    noise = rng.normal(0.0, 0.01, (4000, 5, 3))
    stamps = np.arange(4000) / 30.0
    # The residual of a 2-parameter fit over 4000 samples keeps almost all of the noise.
    assert high_pass_rms(stamps, noise) == pytest.approx(0.01, rel=0.05)


def test_the_meter_slides_over_the_last_frames_in_millimetres():
    meter = JitterMeter(window=11)
    rng = np.random.default_rng(1)
    figures = [meter.add(i / 30.0, rng.normal(0.0, 0.005, (55, 3))) for i in range(40)]
    assert figures[0] == 0.0 and figures[1] == 0.0
    assert 3.0 < np.mean(figures[20:]) < 6.0  # 5 mm noise, a few fit parameters removed
    steady = [meter.add((40 + i) / 30.0, np.full((55, 3), 0.01 * i)) for i in range(11)]
    assert steady[-1] == pytest.approx(0.0, abs=1e-9)
