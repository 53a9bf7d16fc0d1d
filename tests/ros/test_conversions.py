"""Image / CompressedImage / CameraInfo conversions: every accepted encoding decodes to the same
RGB, and anything inconsistent is refused before its bytes are read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bombs import jpeg_claiming, png_claiming
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.ros.conversions import (
    DEFAULT_MAX_PIXELS,
    ENCODINGS,
    RejectedMessageError,
    camera_info_to_intrinsics,
    check_image,
    compressed_size,
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
    with pytest.raises(RejectedMessageError) as err:
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
    ],
)
def test_inconsistent_layout_is_refused(fields, needle):
    msg = Image(encoding="rgb8", **fields)
    with pytest.raises(RejectedMessageError) as err:
        check_image(msg)
    assert err.value.reason == "layout"
    assert needle in str(err.value)


@pytest.mark.parametrize(
    ("width", "height", "limit", "needle"),
    [
        (4, 100000, DEFAULT_MAX_PIXELS, "4x100000"),  # a side over MAX_SIDE
        (100000, 100000, DEFAULT_MAX_PIXELS, "100000x100000"),
        (8, 8, 63, "8x8 = 64 pixels"),  # the parameter's limit
    ],
)
def test_too_large_raw_images_are_refused_before_allocating(width, height, limit, needle):
    msg = Image(encoding="rgb8", height=height, width=width, step=3 * width, data=bytes(24))
    with pytest.raises(RejectedMessageError) as err:
        check_image(msg, limit)
    assert err.value.reason == "size" and needle in str(err.value)
    assert "max_image_pixels" in str(err.value)


@pytest.mark.parametrize(
    "data", [jpeg_claiming(30000, 30000), jpeg_claiming(16000, 16000), png_claiming(10**5, 10**5)]
)
def test_decompression_bombs_are_refused_from_the_header(data):
    msg = CompressedImage(format="jpeg", data=data)
    with pytest.raises(RejectedMessageError) as err:
        compressed_to_rgb(msg)
    assert err.value.reason == "size"


@pytest.mark.parametrize(("encode", "kind"), [(jpeg_claiming, "jpeg"), (png_claiming, "png")])
def test_header_size_is_read_without_decoding(encode, kind):
    assert compressed_size(CompressedImage(data=encode(1234, 567))) == (kind, 1234, 567)


def test_a_header_that_lies_within_the_limit_is_refused_after_decoding():
    # Claims 64x64 (allowed) but holds 8x8 of data: OpenCV fails or the sizes disagree.
    with pytest.raises(RejectedMessageError) as err:
        compressed_to_rgb(CompressedImage(data=png_claiming(64, 64)))
    assert err.value.reason == "decode"


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


def _jpeg() -> bytes:
    return cv2.imencode(".jpg", np.full((32, 32, 3), 77, np.uint8))[1].tobytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "decode"),
        (b"not an image at all", "format"),
        (b"GIF89a" + bytes(30), "format"),
        (b"\xff\xd8\xff", "decode"),  # JPEG magic only
        (_jpeg()[:-40], "decode"),  # truncated: no end-of-image marker
        (_jpeg()[:150] + bytes(200) + b"\xff\xd9", "decode"),  # corrupt scan
        (b"\x89PNG\r\n\x1a\n" + bytes(8), "decode"),  # PNG without IHDR
    ],
)
def test_undecodable_compressed_image_is_refused(data, reason):
    with pytest.raises(RejectedMessageError) as err:
        compressed_to_rgb(CompressedImage(format="jpeg", data=data))
    assert err.value.reason == reason


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
