"""sensor_msgs Image / CompressedImage / CameraInfo -> numpy RGB and Intrinsics, validated first.

The five accepted encodings are 8-bit, so decoding is a reshape and a channel shuffle in numpy;
cv_bridge is not installable here and rosbags-image would add a dependency for the same reshape,
while every size field still has to be checked before touching the bytes.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from pymafx_ros.pipeline.result import Intrinsics

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


class RejectedImageError(ValueError):
    """A message that cannot be used as an image; ``reason`` is a short, stable key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def check_image(msg: Any) -> None:
    """Validate a sensor_msgs/Image's header fields against its data, without reading pixels.

    Raises RejectedImageError: 'encoding' (unsupported; the text names it and the accepted ones),
    or 'layout' (size, step, data length or endianness flag inconsistent).
    """
    encoding = msg.encoding.lower()
    if encoding not in ENCODINGS:
        raise RejectedImageError(
            "encoding",
            f"unsupported image encoding {msg.encoding!r}; accepted: {', '.join(ENCODINGS)} "
            "(convert upstream, e.g. image_proc, or use input_transport:=compressed)",
        )
    channels = ENCODINGS[encoding][0]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise RejectedImageError("layout", f"image size {width}x{height} is empty or too large")
    if step < width * channels:
        raise RejectedImageError(
            "layout",
            f"image step {step} is smaller than width*channels = {width}*{channels} "
            f"for {encoding}",
        )
    if len(msg.data) != step * height:
        raise RejectedImageError(
            "layout",
            f"image data has {len(msg.data)} bytes, expected step*height = {step}*{height}",
        )
    # The flag only matters for multi-byte channels; any other value means a corrupt header.
    if msg.is_bigendian not in (0, 1):
        raise RejectedImageError("layout", f"is_bigendian is {msg.is_bigendian}, expected 0 or 1")


def image_to_rgb(msg: Any) -> np.ndarray:
    """Decode a sensor_msgs/Image into a fresh (H, W, 3) uint8 RGB array (validates first)."""
    check_image(msg)
    channels, order = ENCODINGS[msg.encoding.lower()]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(height, step)
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    if order is None:
        return np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def compressed_to_rgb(msg: Any) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage (JPEG/PNG...) into (H, W, 3) uint8 RGB."""
    if len(msg.data) == 0:
        raise RejectedImageError("layout", "compressed image has no data")
    buffer = np.frombuffer(msg.data, dtype=np.uint8)
    bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if bgr is None:
        raise RejectedImageError(
            "decode", f"compressed image (format {msg.format!r}) could not be decoded"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def camera_info_to_intrinsics(msg: Any, width: int, height: int) -> Intrinsics | None:
    """Intrinsics for a width x height image from a CameraInfo, or None when uncalibrated.

    K[0] == 0 means uncalibrated (CameraInfo.msg); non-finite or non-positive focal lengths are
    treated the same. A CameraInfo for another resolution (e.g. a resized image) is rescaled.
    """
    k = [float(v) for v in msg.k]
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    if not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or fx <= 0.0 or fy <= 0.0:
        return None
    info_w, info_h = int(msg.width), int(msg.height)
    sx = width / info_w if info_w > 0 else 1.0
    sy = height / info_h if info_h > 0 else 1.0
    return Intrinsics(fx=fx * sx, fy=fy * sy, cx=cx * sx, cy=cy * sy, from_camera_info=True)


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
