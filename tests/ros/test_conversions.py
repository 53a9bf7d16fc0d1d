"""Image / CompressedImage / CameraInfo conversions: every accepted encoding decodes to the same
RGB, and anything inconsistent is refused before its bytes are read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from pymafx_ros.pipeline.result import Intrinsics
from pymafx_ros.ros.conversions import (
    ENCODINGS,
    RejectedImageError,
    camera_info_to_intrinsics,
    check_image,
    compressed_to_rgb,
    image_to_rgb,
    intrinsics_to_camera_info,
    rgb_to_image,
)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
def test_colour_encodings_round_trip(rgb, encoding):
    msg = rgb_to_image(rgb, encoding)
    assert msg.step == 5 * ENCODINGS[encoding][0]
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_mono8_becomes_grey_rgb(rgb):
    out = image_to_rgb(rgb_to_image(rgb, "mono8"))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    assert out.shape == (7, 5, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], grey)


def test_padded_rows_are_skipped(rgb):
    padded = np.zeros((7, 5 * 3 + 4), dtype=np.uint8)
    padded[:, :15] = rgb.reshape(7, 15)
    padded[:, 15:] = 255  # padding bytes must not leak into pixels
    msg = Image(height=7, width=5, encoding="rgb8", step=19, data=padded.tobytes())
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_decoded_array_does_not_alias_the_message(rgb):
    msg = rgb_to_image(rgb, "rgb8")
    out = image_to_rgb(msg)
    out[:] = 0
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


@pytest.mark.parametrize("encoding", ["16UC1", "bayer_rggb8", "yuv422", "rgb16", "32FC1"])
def test_unsupported_encoding_is_named(encoding):
    msg = Image(height=2, width=2, encoding=encoding, step=8, data=bytes(16))
    with pytest.raises(RejectedImageError) as err:
        image_to_rgb(msg)
    assert err.value.reason == "encoding"
    assert repr(encoding) in str(err.value)
    assert "rgb8" in str(err.value)  # says what is accepted


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        (dict(height=0, width=4, step=12, data=bytes(0)), "empty"),
        (dict(height=2, width=4, step=11, data=bytes(22)), "step 11"),
        (dict(height=2, width=4, step=12, data=bytes(23)), "23 bytes"),
        (dict(height=2, width=4, step=12, data=bytes(25)), "25 bytes"),
        (dict(height=2, width=4, step=12, data=bytes(24), is_bigendian=7), "is_bigendian"),
        (dict(height=100000, width=4, step=12, data=bytes(24)), "too large"),
    ],
)
def test_inconsistent_layout_is_refused(fields, needle):
    msg = Image(encoding="rgb8", **fields)
    with pytest.raises(RejectedImageError) as err:
        check_image(msg)
    assert err.value.reason == "layout"
    assert needle in str(err.value)


@pytest.mark.parametrize(("extension", "tolerance"), [(".png", 0.0), (".jpg", 4.0)])
def test_compressed_images_decode(extension, tolerance):
    # A smooth gradient: JPEG keeps it within a few grey levels, PNG exactly.
    y, x = np.mgrid[0:48, 0:64]
    picture = np.stack([x * 4, y * 5, (x + y) * 2], axis=2).astype(np.uint8)
    ok, buffer = cv2.imencode(extension, picture[:, :, ::-1])
    assert ok
    out = compressed_to_rgb(CompressedImage(format=extension[1:], data=buffer.tobytes()))
    assert out.shape == picture.shape
    assert np.abs(out.astype(int) - picture.astype(int)).mean() <= tolerance


@pytest.mark.parametrize("data", [b"", b"not an image at all"])
def test_undecodable_compressed_image_is_refused(data):
    with pytest.raises(RejectedImageError):
        compressed_to_rgb(CompressedImage(format="jpeg", data=data))


def test_camera_info_gives_intrinsics():
    k = Intrinsics(500.0, 510.0, 320.0, 240.0)
    assert camera_info_to_intrinsics(intrinsics_to_camera_info(k, 640, 480), 640, 480) == k


def test_camera_info_for_another_resolution_is_rescaled():
    k = Intrinsics(500.0, 500.0, 320.0, 240.0)
    scaled = camera_info_to_intrinsics(intrinsics_to_camera_info(k, 640, 480), 320, 240)
    assert scaled == Intrinsics(250.0, 250.0, 160.0, 120.0)


@pytest.mark.parametrize(
    "k",
    [
        [0.0] * 9,  # uncalibrated, as CameraInfo.msg defines it
        [float("nan"), 0, 320, 0, 500, 240, 0, 0, 1],
        [500, 0, 320, 0, -500, 240, 0, 0, 1],
        [500, 0, float("inf"), 0, 500, 240, 0, 0, 1],
    ],
)
def test_uncalibrated_or_broken_camera_info_gives_none(k):
    msg = CameraInfo(width=640, height=480)
    msg.k = [float(v) for v in k]
    assert camera_info_to_intrinsics(msg, 640, 480) is None
