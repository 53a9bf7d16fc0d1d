"""Square part crops cut straight from the frame, their normalisation and the inverse map.

Image coordinates follow OpenCV/ROS CameraInfo: the centre of pixel (col, row) is (col, row).
A box (cx, cy, size) is mapped onto the 224x224 model input so that normalised crop coordinates
n in [-1, 1] (``grid_sample`` with ``align_corners=False``: -1 is the outer edge of the first
pixel) land at ``x = cx + n * size / 2``; crop pixel u (centre) is ``n = (u + 0.5) / 112 - 1``.

Each crop is one bilinear remap from the frame (or from a shared, antialiased pyramid level for
large downscales) with zero outside the image, like the release's zero-padded crop. The sampling
positions are rounded to OpenCV's 1/32 px interpolation grid by us, symmetrically about the image
centre, so that cropping a mirrored frame at the mirrored box gives exactly the mirrored crop
(``cv2.warpAffine`` rounds its fixed-point coordinates asymmetrically and breaks that).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

CROP_SIZE = 224
IMAGE_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGE_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

SUBPIXEL_BITS = 5  # cv2.INTER_BITS: remap interpolates on a 1/32 px grid
SUBPIXEL = 1 << SUBPIXEL_BITS
# Samples further than this outside the image are clamped here (all zero anyway); keeps the
# integer map inside int16 and stays symmetric under mirroring.
OUTSIDE_MARGIN_PX = 2
# A crop that shrinks the frame by this factor or more samples a halved level instead, so
# that the bilinear sampling does not alias (the release resizes with an antialiasing filter).
_PYRAMID_FACTOR = 2.0


def boxes_array(boxes: np.ndarray | list[tuple[float, float, float]]) -> np.ndarray:
    """Validate boxes given as rows (cx, cy, size) in pixels -> float64 (N, 3)."""
    array = np.asarray(boxes, dtype=np.float64).reshape(-1, 3)
    if not np.isfinite(array).all():
        raise ValueError("crop boxes must be finite (cx, cy, size) rows")
    if (array[:, 2] <= 0).any():
        raise ValueError(f"crop box sizes must be > 0 px, got {array[:, 2].tolist()}")
    return array


def crop_to_image(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Normalised crop coordinates (N, K, 2) in [-1, 1] -> image pixels (N, K, 2)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 1, 3)
    return boxes[..., :2] + np.asarray(points, dtype=np.float64) * (boxes[..., 2:3] / 2.0)


def image_to_crop(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Image pixels (N, K, 2) -> normalised crop coordinates (N, K, 2), the inverse map."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 1, 3)
    return (np.asarray(points, dtype=np.float64) - boxes[..., :2]) / (boxes[..., 2:3] / 2.0)


def crop_pixels_to_normalised(pixels: np.ndarray) -> np.ndarray:
    """Crop pixel coordinates (centre of pixel u is u) -> normalised [-1, 1] coordinates."""
    return (np.asarray(pixels, dtype=np.float64) + 0.5) / (CROP_SIZE / 2.0) - 1.0


def normalised_to_crop_pixels(points: np.ndarray) -> np.ndarray:
    """Normalised [-1, 1] coordinates -> crop pixel coordinates (centre of pixel u is u)."""
    return (np.asarray(points, dtype=np.float64) + 1.0) * (CROP_SIZE / 2.0) - 0.5


class _Pyramid:
    """The frame and its 2x-downsampled levels, built on demand and shared by a frame's crops."""

    def __init__(self, rgb: np.ndarray) -> None:
        self._levels = [rgb]

    def level(self, index: int) -> np.ndarray:
        while len(self._levels) <= index:
            previous = self._levels[-1]
            half = (previous.shape[1] // 2, previous.shape[0] // 2)
            # 2x2 box average: level-L pixel i covers level-0 pixels [i 2^L, (i + 1) 2^L), a
            # layout that mirrors onto itself (pyrDown centres pixels on even columns, which
            # does not).
            self._levels.append(cv2.resize(previous, half, interpolation=cv2.INTER_AREA))
        return self._levels[index]


def _pyramid_level(size: float, image_shape: tuple[int, ...]) -> int:
    """The coarsest pyramid level that still has at least CROP_SIZE samples across the box."""
    factor = size / CROP_SIZE
    if factor < _PYRAMID_FACTOR:
        return 0
    level = int(np.floor(np.log2(factor)))
    # Odd sizes do not halve symmetrically; only descend while both dimensions stay even.
    height, width = image_shape[:2]
    usable = 0
    while usable < level and height % 2 == 0 and width % 2 == 0 and min(height, width) > 8:
        usable += 1
        height, width = height // 2, width // 2
    return usable


def _sampling_axis(centre: float, size: float, length: int, level: int) -> np.ndarray:
    """Sample positions of one crop axis on the 1/32 px grid of a pyramid level (int64, 224)."""
    offsets = (np.arange(CROP_SIZE, dtype=np.float64) + 0.5 - CROP_SIZE / 2.0) * (size / CROP_SIZE)
    positions = centre + offsets
    # Level L pixel i covers level-0 pixels [i 2^L, (i + 1) 2^L): its centre is i 2^L + (2^L-1)/2.
    scale = float(1 << level)
    positions = (positions - (scale - 1.0) / 2.0) / scale
    fixed = np.rint(positions * SUBPIXEL).astype(np.int64)
    low = -OUTSIDE_MARGIN_PX * SUBPIXEL
    high = (length - 1 + OUTSIDE_MARGIN_PX) * SUBPIXEL
    return np.clip(fixed, low, high)


def sampling_axes(image_shape: tuple[int, ...], boxes: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Per box its pyramid level and its sample positions on that level's 1/32 px grid.

    -> (levels [N], int64 (N, 2, 224) = [x positions; y positions]). Shared by the OpenCV
    crops here and the torch crops of ``device_crops``, so both sample the same points.
    """
    boxes = boxes_array(boxes)
    levels = [_pyramid_level(size, image_shape) for size in boxes[:, 2]]
    axes = np.empty((len(boxes), 2, CROP_SIZE), dtype=np.int64)
    for index, ((cx, cy, size), level) in enumerate(zip(boxes, levels, strict=True)):
        height, width = image_shape[0] >> level, image_shape[1] >> level
        axes[index, 0] = _sampling_axis(cx, size, width, level)
        axes[index, 1] = _sampling_axis(cy, size, height, level)
    return levels, axes


def _crop_one(source: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    integer_map = np.empty((CROP_SIZE, CROP_SIZE, 2), dtype=np.int16)
    integer_map[..., 0] = (fx >> SUBPIXEL_BITS)[None, :]
    integer_map[..., 1] = (fy >> SUBPIXEL_BITS)[:, None]
    fraction_map = (fy & (SUBPIXEL - 1))[:, None] * SUBPIXEL + (fx & (SUBPIXEL - 1))[None, :]
    return cv2.remap(
        source,
        integer_map,
        fraction_map.astype(np.uint16),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )


def crop_uint8(rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Cut square boxes (N, 3) = (cx, cy, size) from an RGB frame -> (N, 224, 224, 3) uint8."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.dtype} {rgb.shape}")
    levels, axes = sampling_axes(rgb.shape, boxes)
    pyramid = _Pyramid(np.ascontiguousarray(rgb))
    out = np.empty((len(levels), CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    for index, level in enumerate(levels):
        out[index] = _crop_one(pyramid.level(level), axes[index, 0], axes[index, 1])
    return out


def normalise_crops(crops: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, 224, 224, 3) uint8 -> (N, 3, 224, 224) float32 on ``device``, ``(u8/255 - mean)/std``.

    The bytes travel to the device first (4x less to copy than floats), then are normalised
    there with the release's float32 arithmetic.
    """
    return normalise_crop_tensor(torch.from_numpy(crops).to(device))


def normalise_crop_tensor(images: torch.Tensor) -> torch.Tensor:
    """(N, 224, 224, 3) uint8 on any device -> (N, 3, 224, 224) float32 on that device,
    ``(u8/255 - mean)/std`` with the release's float32 arithmetic."""
    floats = images.permute(0, 3, 1, 2).float()
    # non_blocking: 12-byte constants; a blocking copy would synchronise a CUDA stream.
    mean = torch.from_numpy(IMAGE_MEAN).to(floats.device, non_blocking=True)[:, None, None]
    std = torch.from_numpy(IMAGE_STD).to(floats.device, non_blocking=True)[:, None, None]
    return ((floats / 255.0 - mean) / std).contiguous()
