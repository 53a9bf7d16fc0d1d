"""The 3D lift: default intrinsics, closed form, least-squares fit (property based), guards."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymafx_ros.geometry.camera import Intrinsics, default_intrinsics, project_points
from pymafx_ros.pipeline.crops import CROP_SIZE
from pymafx_ros.pipeline.lift import (
    MODEL_FOCAL_PX,
    crop_camera_keypoints,
    initial_translation,
    lift_translation,
    refine_translation,
)


def _body_joints(rng: np.random.Generator, count: int = 55) -> np.ndarray:
    """A human-sized cloud: 0.5 m wide, 1.8 m tall, 0.4 m deep, around the model origin."""
    return rng.uniform(-0.5, 0.5, (count, 3)) * np.array([0.5, 1.8, 0.4])


def test_default_intrinsics_is_a_60_degree_pinhole_centred_on_the_image() -> None:
    intrinsics = default_intrinsics(640, 480, 60.0)
    assert intrinsics.from_camera_info is False
    assert intrinsics.fx == pytest.approx(320.0 / math.tan(math.radians(30.0)))
    assert intrinsics.fy == intrinsics.fx
    assert (intrinsics.cx, intrinsics.cy) == (319.5, 239.5)
    with pytest.raises(ValueError, match="fov"):
        default_intrinsics(640, 480, 0.0)
    with pytest.raises(ValueError, match="size"):
        default_intrinsics(0, 480)


def test_closed_form_is_exact_when_the_camera_matches_the_crop_camera() -> None:
    # A real camera whose focal equals the crop's effective focal, principal point at the box
    # centre: the weak-perspective camera is then exactly a perspective one.
    rng = np.random.default_rng(0)
    joints = _body_joints(rng)[None]
    size = 300.0
    focal = MODEL_FOCAL_PX * size / CROP_SIZE
    intrinsics = Intrinsics(focal, focal, 310.0, 250.0)
    box = np.array([[310.0, 250.0, size]])
    cam = np.array([[0.9, 0.05, -0.1]])
    initial = initial_translation(cam, box, intrinsics)
    expected_tz = 2 * MODEL_FOCAL_PX / (CROP_SIZE * 0.9)
    np.testing.assert_allclose(initial, [[0.05, -0.1, expected_tz]], rtol=1e-12, atol=1e-12)
    targets = crop_camera_keypoints(joints, cam, box)
    np.testing.assert_allclose(project_points(joints + initial[:, None], intrinsics), targets)


@settings(max_examples=60, deadline=None)
@given(
    fx=st.floats(200, 3000),
    fy=st.floats(200, 3000),
    width=st.integers(160, 1920),
    height=st.integers(120, 1080),
    principal=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    truth=st.tuples(st.floats(-3, 3), st.floats(-2, 2), st.floats(1.5, 10.0)),
    box_shift=st.tuples(st.floats(-0.6, 0.6), st.floats(-0.6, 0.6)),
    box_scale=st.floats(0.3, 3.0),
    cam=st.tuples(st.floats(0.3, 2.0), st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)),
    seed=st.integers(0, 2**16),
)
def test_lift_reprojects_onto_the_keypoints(
    fx, fy, width, height, principal, truth, box_shift, box_scale, cam, seed
) -> None:
    """Whatever the camera and box: keypoints that are the true projection are matched."""
    rng = np.random.default_rng(seed)
    intrinsics = Intrinsics(fx, fy, principal[0] * (width - 1), principal[1] * (height - 1))
    joints = _body_joints(rng)[None]
    true_translation = np.array([truth])
    keypoints = project_points(joints + true_translation[:, None], intrinsics)
    # A body box around the keypoints, shifted/scaled so it may stick out of the image, and a
    # weak-perspective camera that only seeds the fit.
    low, high = keypoints[0].min(0), keypoints[0].max(0)
    size = 1.2 * max(high - low) * box_scale
    centre = (low + high) / 2 + np.array(box_shift) * size
    box = np.array([[centre[0], centre[1], size]])
    initial = initial_translation(np.array([cam]), box, intrinsics)
    translation = refine_translation(joints, keypoints, intrinsics, initial)
    reprojected = project_points(joints + translation[:, None], intrinsics)
    assert np.abs(reprojected - keypoints).max() < 0.5


@settings(max_examples=60, deadline=None)
@given(
    focal=st.floats(200, 3000),
    cam=st.tuples(st.floats(0.4, 2.0), st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)),
    box=st.tuples(st.floats(-100, 740), st.floats(-100, 580), st.floats(40, 900)),
    seed=st.integers(0, 2**16),
)
def test_fit_to_the_model_keypoints_improves_on_the_closed_form(focal, cam, box, seed) -> None:
    """From a model camera: finite, in front of the lens, and no worse than the closed form.

    Off the optical axis the model's crop view cannot be matched exactly by a translation
    (the crop camera looks straight at the person), so only improvement is asserted.
    """
    rng = np.random.default_rng(seed)
    intrinsics = Intrinsics(focal, focal, 319.5, 239.5)
    joints = _body_joints(rng)[None]
    cams, boxes = np.array([cam]), np.array([box])
    translation, ok = lift_translation(joints, cams, boxes, intrinsics)
    assert ok[0] and np.isfinite(translation).all()
    placed = joints + translation[:, None]
    assert (placed[..., 2] > 0).all()
    targets = crop_camera_keypoints(joints, cams, boxes)
    initial = initial_translation(cams, boxes, intrinsics)

    def rms(t: np.ndarray) -> float:
        residual = project_points(joints + t[:, None], intrinsics) - targets
        return float(np.sqrt((residual**2).mean()))

    assert rms(translation) <= rms(initial) * 1.001 + 1e-9


def test_exact_targets_are_matched_with_mismatched_focal() -> None:
    rng = np.random.default_rng(5)
    intrinsics = Intrinsics(600.0, 640.0, 300.0, 260.0)
    joints = _body_joints(rng)[None]
    truth = np.array([[0.3, 0.2, 3.0]])
    keypoints = project_points(joints + truth[:, None], intrinsics)
    translation = refine_translation(joints, keypoints, intrinsics, np.array([[0.0, 0.0, 9.0]]))
    np.testing.assert_allclose(translation, truth, atol=1e-9)


def test_degenerate_cameras_are_flagged_not_nan() -> None:
    rng = np.random.default_rng(6)
    joints = np.repeat(_body_joints(rng)[None], 4, axis=0)
    intrinsics = default_intrinsics(640, 480)
    cams = np.array([[0.0, 0.0, 0.0], [-1.0, 0.1, 0.1], [np.nan, 0.0, 0.0], [1.0, 0.0, 0.0]])
    boxes = np.array([[320, 240, 300.0], [320, 240, 300.0], [320, 240, 300.0], [320, 240, 1e-6]])
    translation, ok = lift_translation(joints, cams, boxes, intrinsics)
    assert ok.tolist() == [False, False, False, ok[3]]
    assert np.isfinite(translation[[0, 1, 3]]).all()
    if ok[3]:
        assert np.isfinite(project_points(joints[3] + translation[3], intrinsics)).all()
