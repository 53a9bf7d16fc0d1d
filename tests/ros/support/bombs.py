"""Compressed payloads that lie about their size: tiny JPEG/PNG files whose headers claim
enormous images (decompression bombs), built by patching a real encoder's output."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def jpeg_claiming(width: int, height: int) -> bytes:
    """A ~630-byte JPEG of an 8x8 image whose frame header (SOF0) says ``width`` x ``height``."""
    ok, encoded = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose IHDR says ``width`` x ``height`` (CRC fixed so readers trust it)."""
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)
