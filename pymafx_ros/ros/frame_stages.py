"""What the node's front-end stage hands to its model stage (``pipeline.overlap``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.ros.conversions import compressed_to_rgb, image_to_rgb


@dataclass
class FrontDone:
    """An image after the front-end stage: decoded, its intrinsics, the pipeline's front-end
    result (None for a pipeline without ``front_end``: it all runs in the model stage) and the
    times (perf_counter seconds; received_at: monotonic) its latency figures come from."""

    msg: Image | CompressedImage
    rgb: np.ndarray
    intrinsics: Intrinsics | None
    front: Any
    received_at: float
    started: float
    decoded: float
    done: float


def decode(msg: Image | CompressedImage, max_pixels: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a raw or compressed image; RejectedMessageError when unusable."""
    if isinstance(msg, CompressedImage):
        return compressed_to_rgb(msg, max_pixels)
    return image_to_rgb(msg, max_pixels)
