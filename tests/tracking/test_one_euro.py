"""One Euro filters: jitter reduced, steps followed, unit quaternions without sign flips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from pymafx_ros.config import OneEuroParams, SmoothingConfig
from pymafx_ros.tracking.one_euro import PointFilter, RotationFilter

FPS = 30.0
STEP_AT = 40


def noisy_rotation_step(step_deg: float, noise_deg: float, seed: int):
    """A fixed rotation that turns by ``step_deg`` about one axis at frame ``STEP_AT``, with
    ``noise_deg`` of Gaussian noise per axis and frame (truth, samples)."""
    rng = np.random.default_rng(seed)
    base = Rotation.from_rotvec([0.3, -0.2, 0.5])
    turn = Rotation.from_rotvec([0.0, np.radians(step_deg), 0.0])
    truth = [base if t < STEP_AT else base * turn for t in range(STEP_AT + 20)]
    noise = Rotation.from_rotvec(rng.normal(0.0, np.radians(noise_deg), (len(truth), 3)))
    return truth, [r * n for r, n in zip(truth, noise, strict=True)]


def filtered(samples, params: OneEuroParams) -> list[Rotation]:
    f = RotationFilter(params)
    return [
        Rotation.from_matrix(f(s.as_matrix()[None], None if t == 0 else 1 / FPS)[0])
        for t, s in enumerate(samples)
    ]


def jitter(rotations: list[Rotation]) -> float:
    """RMS frame-to-frame rotation angle (rad)."""
    steps = [(b.inv() * a).magnitude() for a, b in zip(rotations[1:], rotations[:-1], strict=True)]
    return float(np.sqrt(np.mean(np.square(steps))))


@pytest.mark.parametrize("group", ["root", "body"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_rotation_filter_cuts_jitter_and_follows_a_step(group, seed):
    params = getattr(SmoothingConfig(), group)
    truth, samples = noisy_rotation_step(step_deg=60.0, noise_deg=2.0, seed=seed)
    out = filtered(samples, params)
    still = slice(5, STEP_AT)
    reduction = 1.0 - jitter(out[still]) / jitter(samples[still])
    assert reduction >= 0.6
    # Within 3 frames of the step (the step frame and two more) the output is within 10 % of
    # the 60 degree step of the truth.
    error = (out[STEP_AT + 2].inv() * truth[STEP_AT + 2]).magnitude()
    assert error <= 0.1 * np.radians(60.0)


def test_a_plain_low_pass_with_the_same_jitter_cut_would_lag():
    """The step test can fail: a fixed low-pass as smooth as the default lags by far more."""
    truth, samples = noisy_rotation_step(60.0, 2.0, 0)
    out = filtered(samples, OneEuroParams(min_cutoff=0.5, beta=0.0))
    assert (out[STEP_AT + 2].inv() * truth[STEP_AT + 2]).magnitude() > 0.3 * np.radians(60.0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    spread=st.floats(0.01, 3.0),
    dts=st.lists(st.floats(0.001, 0.5), min_size=2, max_size=40),
)
def test_outputs_are_unit_quaternions_without_sign_flips(seed, spread, dts):
    """Inputs jump around (up to 3 rad per frame), at irregular steps, and arrive with random
    quaternion signs; every output is unit and on the previous output's hemisphere."""
    rng = np.random.default_rng(seed)
    f = RotationFilter(OneEuroParams(0.5, 1.5, 1.0))
    current = Rotation.random(4, random_state=seed)
    previous = None
    for index, dt in enumerate([None, *dts]):
        current = current * Rotation.from_rotvec(rng.normal(0.0, spread / 2, (4, 3)))
        quat = current.as_quat() * rng.choice([-1.0, 1.0], (4, 1))
        out = f(Rotation.from_quat(quat).as_matrix(), dt)
        q = f.quaternions
        np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)
        np.testing.assert_allclose(Rotation.from_quat(q).as_matrix(), out, atol=1e-9)
        if previous is not None:
            assert (np.sum(q * previous, axis=-1) >= 0).all(), index
        previous = q.copy()


def test_point_filter_uses_the_stamps_not_a_frame_rate():
    """The same motion sampled at 30 Hz and at 15 Hz ends at the same filtered place."""
    params = OneEuroParams(1.0, 0.0, 1.0)
    results = []
    for rate in (30.0, 15.0):
        f = PointFilter(params)
        for t in np.arange(0.0, 1.0 + 1e-9, 1.0 / rate):
            value = f(np.array([[1.0 if t > 0 else 0.0, 0.0]]), None if t == 0 else 1.0 / rate)
        results.append(value[0, 0])
    # A first-order low-pass at 1 Hz after 1 s: 1 - exp(-2 pi) would be 0.998 in continuous
    # time; both discretisations agree within a few percent of each other.
    assert results[0] == pytest.approx(results[1], abs=0.05)
    assert 0.9 < results[0] < 1.0


def test_a_restart_takes_the_sample_as_is():
    f = PointFilter(OneEuroParams())
    f(np.zeros((2, 3)), None)
    np.testing.assert_array_equal(f(np.ones((2, 3)), None), np.ones((2, 3)))
    assert (f.last_lag_s == 0.0).all()


@pytest.mark.parametrize("field, value", [("min_cutoff", 0.0), ("beta", -1.0), ("d_cutoff", -2)])
def test_bad_parameters_are_named(field, value):
    with pytest.raises(ValueError, match=f"smoothing.body.{field}"):
        OneEuroParams(**{field: value}).validate("smoothing.body.")


def test_rows_can_have_their_own_parameters():
    """Row 0 smoothed hard, row 1 hardly at all: one batched call, two behaviours."""
    f = PointFilter([OneEuroParams(0.1, 0.0), OneEuroParams(100.0, 0.0)])
    f(np.zeros((2, 1)), None)
    out = f(np.ones((2, 1)), 1 / FPS)
    assert out[0, 0] < 0.05 < 0.9 < out[1, 0]
    assert f.last_lag_s[0] > 10 * f.last_lag_s[1]
