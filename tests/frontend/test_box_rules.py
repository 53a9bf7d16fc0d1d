"""The release's box rule on synthetic keypoints, and the image-edge helpers."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pymafx_ros.frontend.box_rules import (
    BODY_RESCALE,
    FACE_RESCALE,
    HAND_RESCALE,
    PIXELS_PER_SCALE,
    box_from_extent,
    box_from_keypoints,
    clamp_centre,
    clip_points,
    fraction_inside,
    whole_image_box,
)
from pymafx_ros.frontend.types import PartBox


def test_release_rescale_factors():
    assert (BODY_RESCALE, HAND_RESCALE, FACE_RESCALE, PIXELS_PER_SCALE) == (1.0, 1.2, 1.4, 200.0)


def test_box_is_bbox_centre_and_margin_times_longer_side():
    keypoints = np.array([[10.0, 20.0, 0.9], [50.0, 30.0, 0.2], [30.0, 100.0, 0.5]])
    box = box_from_keypoints(keypoints, rescale=HAND_RESCALE)
    assert astuple(box) == pytest.approx((30.0, 60.0, 1.2 * 80.0 * 1.2))
    # the release's scale is side / 200
    assert box.size / PIXELS_PER_SCALE == pytest.approx(1.2 * 80.0 / 200.0 * 1.2)


def test_keypoints_without_confidence_are_ignored():
    keypoints = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 1.0], [20.0, 30.0, 1.0], [900, 900, 0]])
    assert astuple(box_from_keypoints(keypoints, 1.0)) == pytest.approx((15.0, 20.0, 24.0))


@pytest.mark.parametrize(
    "keypoints",
    [np.zeros((0, 3)), np.array([[5.0, 5.0, 1.0]]), np.array([[5.0, 5, 1], [5, 5, 1], [9, 9, 0]])],
)
def test_no_extent_gives_no_box(keypoints):
    assert box_from_keypoints(keypoints, 1.0) is None


def test_keypoints_of_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        box_from_keypoints(np.zeros((4, 2)), 1.0)


@given(
    arrays(np.float64, (6, 2), elements=st.floats(-500, 500)),
    st.sampled_from([BODY_RESCALE, HAND_RESCALE, FACE_RESCALE]),
)
def test_box_contains_every_valid_keypoint(points, rescale):
    keypoints = np.column_stack([points, np.ones(6)])
    box = box_from_keypoints(keypoints, rescale)
    if box is None:
        assert np.ptp(points, axis=0).max() == 0
        return
    half = box.size / 2
    assert np.all(np.abs(points - [box.cx, box.cy]) <= half + 1e-9)


def test_clip_points_keeps_extra_columns_and_stays_in_image():
    points = np.array([[-5.0, 3.0, 0.7], [700.0, 500.0, 0.1], [10.0, 20.0, 1.0]])
    clipped = clip_points(points, width=640, height=480)
    np.testing.assert_array_equal(clipped, [[0, 3, 0.7], [639, 479, 0.1], [10, 20, 1.0]])
    assert points[0, 0] == -5.0  # input untouched


def test_fraction_inside():
    points = np.array([[-1.0, 5.0], [5.0, 5.0], [639.0, 479.0], [640.0, 0.0]])
    assert fraction_inside(points, 640, 480) == 0.5
    assert fraction_inside(np.zeros((0, 2)), 640, 480) == 0.0


def test_clamp_centre_moves_only_the_centre():
    assert clamp_centre(PartBox(-30.0, 900.0, 50.0), 640, 480) == PartBox(0.0, 479.0, 50.0)


def test_whole_image_box_is_square_and_centred():
    assert whole_image_box(640, 480) == PartBox(319.5, 239.5, 640.0)
    assert box_from_extent(0, 0, 10, 4, 1.0) == PartBox(5.0, 2.0, 12.0)
