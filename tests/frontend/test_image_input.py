"""Frames other than (H,W,3) uint8 RGB are refused with an error that says how to fix them."""

from __future__ import annotations

import numpy as np
import pytest

from pymafx_ros.frontend import create_detector
from pymafx_ros.frontend.image_input import check_rgb

BAD_FRAMES = [
    (np.zeros((48, 64), np.uint8), "grayscale"),
    (np.zeros((48, 64, 1), np.uint8), "grayscale"),
    (np.zeros((48, 64, 4), np.uint8), "alpha"),
    (np.zeros((48, 64, 3), np.float32), "uint8"),
    (np.zeros((2, 48, 64, 3), np.uint8), "shape"),
    (np.zeros((1, 64, 3), np.uint8), "too small"),
    ([[0, 0, 0]], "numpy array"),
]


@pytest.mark.parametrize(("frame", "message"), BAD_FRAMES)
def test_bad_frames_are_refused(frame, message):
    with pytest.raises(ValueError, match=message):
        check_rgb(frame)


@pytest.mark.parametrize("kind", ["full_frame", "external"])
def test_detectors_check_their_input(kind):
    detector = create_detector(kind)
    with pytest.raises(ValueError, match="uint8"):
        detector.detect(np.zeros((48, 64, 3), np.float64))


def test_a_view_is_made_contiguous():
    frame = np.zeros((4, 6, 3), np.uint8)[:, ::-1]
    assert check_rgb(frame).flags["C_CONTIGUOUS"]
