"""Crops: geometry convention, inverse map, mirror exactness, normalisation, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.pipeline.crops import (
    CROP_SIZE,
    IMAGE_MEAN,
    IMAGE_STD,
    crop_pixels_to_normalised,
    crop_to_image,
    crop_uint8,
    image_to_crop,
    normalise_crops,
    normalised_to_crop_pixels,
)


def _random_frame(height: int = 240, width: int = 320, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_inverse_map_round_trip_within_a_thousandth_of_a_pixel() -> None:
    rng = np.random.default_rng(1)
    boxes = np.column_stack(
        [rng.uniform(-100, 740, 20), rng.uniform(-100, 580, 20), rng.uniform(4, 900, 20)]
    )
    crop_pixels = rng.uniform(-20, CROP_SIZE + 20, (20, 50, 2))
    image = crop_to_image(crop_pixels_to_normalised(crop_pixels), boxes)
    back = normalised_to_crop_pixels(image_to_crop(image, boxes))
    assert np.abs(back - crop_pixels).max() < 1e-3
    again = crop_to_image(image_to_crop(image, boxes), boxes)
    assert np.abs(again - image).max() < 1e-3


def test_box_edges_map_to_normalised_unit_square() -> None:
    box = np.array([[100.0, 50.0, 80.0]])
    corners = crop_to_image(np.array([[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]]), box)
    np.testing.assert_allclose(corners[0], [[60.0, 10.0], [140.0, 90.0], [100.0, 50.0]])


@pytest.mark.parametrize("size", [37.0, 224.0, 300.0, 1000.0])
def test_crop_samples_the_image_where_the_inverse_map_says(size: float) -> None:
    # A frame whose red channel is x and green channel is y (in 1/2 px steps, 0..255): the crop
    # must read back the coordinates the inverse map gives for each crop pixel.
    height, width = 256, 512
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[..., 0] = xs // 2
    frame[..., 1] = ys
    box = np.array([[width / 2 + 3.3, height / 2 - 2.7, min(size, 250.0)]])
    crop = crop_uint8(frame, box)[0]
    pixels = np.stack(np.meshgrid(np.arange(CROP_SIZE), np.arange(CROP_SIZE)), -1)
    where = crop_to_image(crop_pixels_to_normalised(pixels.reshape(1, -1, 2)), box)[0]
    where = where.reshape(CROP_SIZE, CROP_SIZE, 2)
    inside = (where[..., 0] > 2) & (where[..., 0] < width - 3)
    inside &= (where[..., 1] > 2) & (where[..., 1] < height - 3)
    assert inside.mean() > 0.9
    assert np.abs(crop[..., 0][inside] - where[..., 0][inside] / 2).max() <= 1.0
    assert np.abs(crop[..., 1][inside] - where[..., 1][inside]).max() <= 1.0


def test_outside_the_image_is_zero() -> None:
    frame = np.full((100, 100, 3), 200, dtype=np.uint8)
    crop = crop_uint8(frame, np.array([[0.0, 0.0, 100.0]]))[0]
    assert (crop[:100, :100] == 0).all()  # top-left quarter lies left/above the image
    assert (crop[120:, 120:] == 200).all()


@pytest.mark.parametrize("shape", [(240, 320), (480, 640), (123, 257)])
def test_mirrored_frame_at_mirrored_box_gives_exactly_mirrored_crop(shape) -> None:
    height, width = shape
    frame = _random_frame(height, width, seed=3)
    mirrored = np.ascontiguousarray(frame[:, ::-1])
    rng = np.random.default_rng(4)
    boxes = np.column_stack(
        [
            rng.uniform(-30, width + 30, 40),
            rng.uniform(-30, height + 30, 40),
            np.concatenate([rng.uniform(5, 200, 20), rng.uniform(400, 2000, 20)]),
        ]
    )
    mirrored_boxes = boxes.copy()
    mirrored_boxes[:, 0] = width - 1 - boxes[:, 0]
    original = crop_uint8(frame, boxes)
    flipped = crop_uint8(mirrored, mirrored_boxes)
    np.testing.assert_array_equal(original[:, :, ::-1], flipped)


def test_large_boxes_are_antialiased() -> None:
    # A 1 px checkerboard shrunk 4x must come out near uniform grey, not aliased stripes.
    ys, xs = np.mgrid[0:896, 0:896]
    board = (((xs + ys) % 2) * 255).astype(np.uint8)
    frame = np.repeat(board[..., None], 3, axis=2)
    crop = crop_uint8(frame, np.array([[447.5, 447.5, 896.0]]))[0]
    assert np.abs(crop[20:-20, 20:-20].astype(float) - 127.5).max() < 8


def test_normalisation_matches_the_release() -> None:
    crops = crop_uint8(_random_frame(), np.array([[160.0, 120.0, 150.0], [10.0, 20.0, 60.0]]))
    batch = normalise_crops(crops)
    assert batch.shape == (2, 3, CROP_SIZE, CROP_SIZE) and batch.dtype == torch.float32
    expected = (crops.astype(np.float32) / np.float32(255) - IMAGE_MEAN) / IMAGE_STD
    np.testing.assert_array_equal(batch.numpy(), expected.transpose(0, 3, 1, 2))


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="uint8"):
        crop_uint8(np.zeros((10, 10, 3), np.float32), np.array([[5.0, 5.0, 5.0]]))
    with pytest.raises(ValueError, match="sizes"):
        crop_uint8(_random_frame(), np.array([[5.0, 5.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        crop_uint8(_random_frame(), np.array([[np.nan, 5.0, 5.0]]))
