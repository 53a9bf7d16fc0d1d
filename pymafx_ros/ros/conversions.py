"""sensor_msgs Image / CompressedImage / CameraInfo -> numpy RGB and Intrinsics, validated first.

The five accepted encodings are 8-bit, so decoding is a reshape and a channel shuffle in numpy;
cv_bridge is not installable here and an image-conversion package would add a dependency for
the same reshape, while every size field still has to be checked before touching the bytes.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import cv2
import numpy as np

from pymafx_ros.geometry.camera import Intrinsics

# encoding -> (channels, index of R,G,B in the pixel or None for grey)
ENCODINGS: dict[str, tuple[int, tuple[int, int, int] | None]] = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, None),
}
# Bigger images are almost surely a corrupt header; refuse before allocating anything.
MAX_SIDE = 16384
# Default of the node's max_image_pixels: 8K UHD (7680 x 4320). OpenCV's own cap is 2**30.
DEFAULT_MAX_PIXELS = 7680 * 4320
_JPEG_SOI, _JPEG_EOI = b"\xff\xd8", b"\xff\xd9"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they hold the size.
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: markers without a length
_JPEG_SOS = 0xDA
# Relative difference of the x and y scales beyond which a CameraInfo is for another image shape.
ASPECT_TOLERANCE = 0.01


class RejectedMessageError(ValueError):
    """A message the node cannot use; ``reason`` is a short, stable key (counted by kind)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def check_pixels(width: int, height: int, max_pixels: int, what: str) -> None:
    """Refuse (reason 'size') an image of more than ``max_pixels`` pixels or a side over
    ``MAX_SIDE``, before anything of that size is allocated."""
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise RejectedMessageError(
            "size",
            f"{what} is {width}x{height} = {width * height} pixels, more than the node accepts "
            f"(max_image_pixels = {max_pixels}, and at most {MAX_SIDE} per side); resize it "
            "upstream, or raise the max_image_pixels parameter if the camera really sends it",
        )


def check_image(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Validate a sensor_msgs/Image's header fields against its data, without reading pixels.

    Raises RejectedMessageError: 'encoding' (unsupported; the text names it and the accepted ones),
    'size' (more than ``max_pixels``), or 'layout' (size, step, data length or endianness flag
    inconsistent).
    """
    encoding = msg.encoding.lower()
    if encoding not in ENCODINGS:
        raise RejectedMessageError(
            "encoding",
            f"unsupported image encoding {msg.encoding!r}; accepted: {', '.join(ENCODINGS)} "
            "(convert upstream, e.g. image_proc, or use input_transport:=compressed)",
        )
    channels = ENCODINGS[encoding][0]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise RejectedMessageError("layout", f"image size {width}x{height} is empty")
    check_pixels(width, height, max_pixels, "the image")
    if step < width * channels:
        raise RejectedMessageError(
            "layout",
            f"image step {step} is smaller than width*channels = {width}*{channels} "
            f"for {encoding}",
        )
    if len(msg.data) != step * height:
        raise RejectedMessageError(
            "layout",
            f"image data has {len(msg.data)} bytes, expected step*height = {step}*{height}",
        )
    # The flag only matters for multi-byte channels; any other value means a corrupt header.
    if msg.is_bigendian not in (0, 1):
        raise RejectedMessageError(
            "layout", f"is_bigendian is {msg.is_bigendian}, expected 0 or 1"
        )


def image_to_rgb(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode a sensor_msgs/Image into a fresh (H, W, 3) uint8 RGB array (validates first)."""
    check_image(msg, max_pixels)
    channels, order = ENCODINGS[msg.encoding.lower()]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(height, step)
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    if order is None:
        return np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def _jpeg_size(data: memoryview) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, walking the markers; None if there is none."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        if marker == _JPEG_SOS:
            return None  # scan data before any frame header
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    return None


def compressed_size(msg: Any) -> tuple[str, int, int]:
    """(format, width, height) of a CompressedImage from its JPEG or PNG header, undecoded.

    OpenCV has no header-only read and Pillow's refuses large sizes before telling them, so
    the two headers a camera's image_transport writes are read here. Raises RejectedMessageError
    'format' (neither JPEG nor PNG) or 'decode' (no readable size in the header).
    """
    data = memoryview(msg.data).cast("B")  # no copy of the payload
    if len(data) == 0:
        raise RejectedMessageError("decode", "compressed image has no data")
    if bytes(data[:8]) == _PNG_SIGNATURE:
        if len(data) < 24 or bytes(data[12:16]) != b"IHDR":
            raise RejectedMessageError("decode", "PNG without its IHDR header chunk")
        width, height = struct.unpack_from(">II", data, 16)
        kind = "png"
    elif bytes(data[:2]) == _JPEG_SOI:
        size = _jpeg_size(data)
        if size is None:
            raise RejectedMessageError("decode", "JPEG without a readable frame header (SOF)")
        if not bytes(data[-64:]).rstrip(b"\x00").endswith(_JPEG_EOI):
            raise RejectedMessageError("decode", "JPEG data is truncated (no end-of-image marker)")
        (width, height), kind = size, "jpeg"
    else:
        raise RejectedMessageError(
            "format",
            f"compressed image (format field {msg.format!r}, data starting "
            f"{bytes(data[:8])!r}) is neither JPEG nor PNG, the formats of image_transport's "
            "'compressed' plugin",
        )
    if width == 0 or height == 0:
        raise RejectedMessageError("decode", f"{kind} header gives an empty {width}x{height} size")
    return kind, width, height


def check_compressed(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """Validate a CompressedImage from its header alone; (width, height) it will decode to."""
    kind, width, height = compressed_size(msg)
    check_pixels(width, height, max_pixels, f"the compressed image ({kind} header)")
    return width, height


def compressed_to_rgb(msg: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage (JPEG or PNG) into (H, W, 3) uint8 RGB.

    The header's size is checked against ``max_pixels`` before decoding (a few hundred bytes
    can claim gigapixels); decoder failures and truncated data are refused, never raised raw.
    """
    width, height = check_compressed(msg, max_pixels)
    buffer = np.frombuffer(msg.data, dtype=np.uint8)
    try:
        bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise RejectedMessageError(
            "decode", f"compressed image could not be decoded: {str(exc).strip()[-200:]}"
        ) from None
    if bgr is None:
        raise RejectedMessageError(
            "decode", f"compressed image (format {msg.format!r}) could not be decoded"
        )
    if bgr.shape[:2] != (height, width):
        raise RejectedMessageError(
            "decode",
            f"compressed image decoded to {bgr.shape[1]}x{bgr.shape[0]}, its header said "
            f"{width}x{height}",
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def camera_info_is_uncalibrated(msg: Any) -> bool:
    """K[0] == 0 means an uncalibrated camera (CameraInfo.msg)."""
    return float(msg.k[0]) == 0.0


def check_camera_info(msg: Any) -> None:
    """Refuse (reason 'camera_info') a CameraInfo whose K cannot be a pinhole: non-finite
    values, or focal lengths that are not positive. An uncalibrated one (K[0] == 0) is fine."""
    if camera_info_is_uncalibrated(msg):
        return
    k = [float(v) for v in msg.k]
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    if not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or fx <= 0.0 or fy <= 0.0:
        raise RejectedMessageError(
            "camera_info",
            f"CameraInfo K has fx={fx}, fy={fy}, cx={cx}, cy={cy}: focal lengths must be finite "
            "and positive and the principal point finite (K[0] = 0 marks an uncalibrated "
            "camera); check the camera's calibration file",
        )


def camera_info_to_intrinsics(msg: Any, width: int, height: int) -> Intrinsics | None:
    """Intrinsics for a width x height image from a CameraInfo, or None when uncalibrated.

    K[0] == 0 means uncalibrated (CameraInfo.msg); non-finite or non-positive focal lengths are
    treated the same. A CameraInfo for another resolution of the same aspect ratio (a binned
    or resized image) is rescaled; for another aspect ratio it raises RejectedMessageError
    ('camera_info'), since no scaling maps one onto the other.
    """
    try:
        check_camera_info(msg)
    except RejectedMessageError:
        return None
    if camera_info_is_uncalibrated(msg):
        return None
    k = [float(v) for v in msg.k]
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    info_w, info_h = int(msg.width), int(msg.height)
    sx = width / info_w if info_w > 0 else 1.0
    sy = height / info_h if info_h > 0 else 1.0
    if abs(sx - sy) > ASPECT_TOLERANCE * max(sx, sy):
        raise RejectedMessageError(
            "camera_info",
            f"CameraInfo is for {info_w}x{info_h} images but the image is {width}x{height} "
            "(another aspect ratio): the calibration cannot be scaled to it; publish the "
            "CameraInfo that belongs to this image stream",
        )
    return Intrinsics(fx=fx * sx, fy=fy * sy, cx=cx * sx, cy=cy * sy, from_camera_info=True)


def detector_timestamp_ms(header: Any) -> int | None:
    """The image stamp in whole ms for the front end's video tracking; None for a stamp of 0
    or before 1970 (a camera without a clock), so each such frame is an independent image."""
    stamp_ns = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
    return stamp_ns // 1_000_000 if stamp_ns > 0 else None


def rgb_to_image(rgb: np.ndarray, encoding: str = "rgb8", header: Any = None) -> Any:
    """(H, W, 3) uint8 RGB -> sensor_msgs/Image in one of ``ENCODINGS`` (for sources and tests)."""
    from sensor_msgs.msg import Image

    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    channels, order = ENCODINGS[encoding]
    if order is None:
        pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None]
    else:
        pixels = np.empty((*rgb.shape[:2], channels), dtype=np.uint8)
        pixels[:, :, list(order)] = rgb
        if channels == 4:
            pixels[:, :, 3] = 255
    height, width = rgb.shape[:2]
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=0)
    msg.step = width * channels
    msg.data = np.ascontiguousarray(pixels).tobytes()
    if header is not None:
        msg.header = header
    return msg


def intrinsics_to_camera_info(k: Intrinsics, width: int, height: int, header: Any = None) -> Any:
    """A plumb-bob CameraInfo without distortion for pinhole ``k`` (for sources and tests)."""
    from sensor_msgs.msg import CameraInfo

    msg = CameraInfo(width=width, height=height, distortion_model="plumb_bob")
    msg.d = [0.0] * 5
    msg.k = [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    if header is not None:
        msg.header = header
    return msg
