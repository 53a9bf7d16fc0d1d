"""Torch crops (``device_crops``) against the OpenCV crops: the same bytes and floats on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.pipeline.crops import crop_uint8, normalise_crops
from pymafx_ros.pipeline.device_crops import DeviceFrame

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _frame(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _boxes(height: int, width: int, count: int, seed: int) -> np.ndarray:
    """Boxes inside, across and outside the frame; small ones and pyramid-level ones."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.uniform(-60, width + 60, count),
            rng.uniform(-60, height + 60, count),
            np.concatenate(
                [rng.uniform(3, 440, count - count // 3), rng.uniform(450, 3000, count // 3)]
            ),
        ]
    )


@pytest.mark.parametrize("shape", [(480, 640), (240, 320), (123, 257), (1080, 1920)])
def test_torch_crops_equal_opencv_crops_bit_for_bit_on_cpu(shape) -> None:
    height, width = shape
    frame = _frame(height, width, seed=height)
    boxes = _boxes(height, width, 24, seed=width)
    expected = normalise_crops(crop_uint8(frame, boxes))
    got = DeviceFrame(frame, "cpu").crops(boxes)
    assert got.shape == expected.shape and got.dtype == torch.float32
    # Tolerance 0: the integer arithmetic is OpenCV's, the normalisation the same float ops.
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_one_frame_serves_several_crop_calls_and_levels() -> None:
    frame = _frame(600, 800, seed=5)
    device_frame = DeviceFrame(frame, "cpu")
    for seed in range(3):
        boxes = _boxes(600, 800, 7, seed=seed)
        torch.testing.assert_close(
            device_frame.crops(boxes), normalise_crops(crop_uint8(frame, boxes)), rtol=0, atol=0
        )


def test_pyramid_levels_equal_opencv_area_halving() -> None:
    import cv2

    frame = _frame(480, 640, seed=9)
    level = DeviceFrame(frame, "cpu").level(2).numpy()
    half = cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)
    quarter = cv2.resize(half, (160, 120), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(level, quarter)


def test_bad_frames_and_boxes_are_named() -> None:
    with pytest.raises(ValueError, match="uint8"):
        DeviceFrame(np.zeros((10, 10, 3), np.float32), "cpu")
    device_frame = DeviceFrame(_frame(40, 40, 0), "cpu")
    with pytest.raises(ValueError, match="sizes"):
        device_frame.crops(np.array([[5.0, 5.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        device_frame.crops(np.array([[np.inf, 5.0, 5.0]]))


@CUDA
def test_cuda_crops_equal_cpu_crops() -> None:
    frame = _frame(720, 1280, seed=1)
    boxes = _boxes(720, 1280, 16, seed=2)
    on_gpu = DeviceFrame(frame, "cuda").crops(boxes)
    assert on_gpu.device.type == "cuda"
    # The integer warp is exact; float division on the GPU may differ by an ulp.
    expected = DeviceFrame(frame, "cpu").crops(boxes)
    torch.testing.assert_close(on_gpu.cpu(), expected, rtol=0, atol=1e-6)
