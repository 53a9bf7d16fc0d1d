"""The square head crop the face detector searches."""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend.face_search import square_crop


def test_square_crop_copies_the_overlap_and_pads_with_black():
    frame = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    crop = square_crop(frame, x0=-1, y0=2, side=3)
    assert crop.shape == (3, 3, 3)
    np.testing.assert_array_equal(crop[:2, 1:], frame[2:4, 0:2])
    assert not crop[:, 0].any() and not crop[2].any()


def test_square_crop_beside_the_frame_is_black():
    frame = np.full((4, 5, 3), 255, np.uint8)
    assert not square_crop(frame, x0=10, y0=-20, side=6).any()
