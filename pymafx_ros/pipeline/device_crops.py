"""The crop warp of ``crops.py`` in torch: crops cut and normalised on the model's device.

The frame is uploaded once (``DeviceFrame``); its pyramid levels, the bilinear remap and the
normalisation then run where the model runs, so a CUDA pipeline copies one uint8 frame (plus a
few-KB sampling table) to the GPU instead of float crops. The arithmetic is OpenCV's own, in
integers: sample positions on the 1/32 px grid from ``crops.sampling_axes``, bilinear weights
(32 - a)(32 - b) * 32 out of 2^15 rounded half up (``cv2.remap`` INTER_LINEAR on uint8), zero
outside the image, and INTER_AREA's exact 2x2 average (a + b + c + d + 2) >> 2 for the levels.
On the CPU the result equals ``normalise_crops(crop_uint8(...))`` bit for bit (tested), so
this is the same crop, only computed elsewhere.
"""

from __future__ import annotations

import numpy as np
import torch

from pymafx_ros.pipeline import crops

_SHIFT = 15  # cv2's INTER_REMAP_COEF_BITS: the four weights sum to 2^15
_ROUND = 1 << (_SHIFT - 1)
_WEIGHT_SCALE = (1 << _SHIFT) // (crops.SUBPIXEL * crops.SUBPIXEL)  # 32: a * b sums to 1024
# Sample indices reach OUTSIDE_MARGIN_PX beyond the image, their right/lower neighbour one more:
# padding every level by this many zeros replaces bounds checks by plain gathers.
_PAD = crops.OUTSIDE_MARGIN_PX + 1


class DeviceFrame:
    """One RGB frame on ``device``: uploaded at construction, levels built there on demand.

    ``crops`` may be called several times per frame (the pipeline's first pass for part boxes,
    then the model pass) without uploading the frame again.
    """

    def __init__(self, rgb: np.ndarray, device: str | torch.device) -> None:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb.dtype} {rgb.shape}")
        self.device = torch.device(device)
        self.shape = rgb.shape
        # non_blocking: from pageable memory CUDA stages the bytes and returns without waiting
        # for the GPU; a blocking copy would synchronise the stream on every frame.
        frame = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device, non_blocking=True)
        self._levels = [frame]
        self._padded: dict[int, torch.Tensor] = {}

    def level(self, index: int) -> torch.Tensor:
        """Pyramid level ``index`` (H / 2^index, W / 2^index, 3) uint8, as ``crops._Pyramid``."""
        while len(self._levels) <= index:
            previous = self._levels[-1]
            height, width = previous.shape[0] // 2, previous.shape[1] // 2
            blocks = previous[: 2 * height, : 2 * width].to(torch.int32)
            summed = blocks.reshape(height, 2, width, 2, 3).sum(dim=(1, 3))
            self._levels.append(((summed + 2) >> 2).to(torch.uint8))
        return self._levels[index]

    def _padded_level(self, index: int) -> torch.Tensor:
        padded = self._padded.get(index)
        if padded is None:
            source = self.level(index)
            height, width = source.shape[:2]
            padded = source.new_zeros((height + 2 * _PAD, width + 2 * _PAD, 3))
            padded[_PAD : _PAD + height, _PAD : _PAD + width] = source
            self._padded[index] = padded
        return padded

    def crops(self, boxes: np.ndarray) -> torch.Tensor:
        """Boxes (N, 3) = (cx, cy, size) px -> (N, 3, 224, 224) float32 normalised on the device,
        the same values as ``normalise_crops(crop_uint8(rgb, boxes))``."""
        levels, axes = crops.sampling_axes(self.shape, boxes)
        # One small upload for all boxes: [x positions; y positions] per crop.
        table = torch.from_numpy(axes).to(self.device, non_blocking=True)
        if len(set(levels)) == 1:
            warped = _remap(self._padded_level(levels[0]), table[:, 0], table[:, 1])
            return crops.normalise_crop_tensor(warped)
        # Boxes on different levels: warp each level's boxes together, then restore the order
        # by stacking views (no index tensor to upload).
        per_crop: list[torch.Tensor | None] = [None] * len(levels)
        for level in sorted(set(levels)):
            rows = [i for i, used in enumerate(levels) if used == level]
            group = torch.stack([table[row] for row in rows])  # views: nothing uploaded
            warped = _remap(self._padded_level(level), group[:, 0], group[:, 1])
            for row, crop in zip(rows, warped.unbind(0), strict=True):
                per_crop[row] = crop
        return crops.normalise_crop_tensor(torch.stack(per_crop))


def _remap(padded: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Bilinear fixed-point remap of a zero-padded level at separable positions.

    padded (H + 2P, W + 2P, 3) uint8; fx, fy (n, 224) int64 on the 1/32 px grid -> (n, 224,
    224, 3) uint8, rounding as ``cv2.remap`` does.
    """
    x0 = (fx >> crops.SUBPIXEL_BITS) + _PAD
    y0 = (fy >> crops.SUBPIXEL_BITS) + _PAD
    ax = (fx & (crops.SUBPIXEL - 1)).to(torch.int32)
    ay = (fy & (crops.SUBPIXEL - 1)).to(torch.int32)
    wx = (crops.SUBPIXEL - ax, ax)  # weights of columns x0, x0 + 1: (n, 224) each
    wy = (crops.SUBPIXEL - ay, ay)
    total = sum(
        padded[(y0 + dy)[:, :, None], (x0 + dx)[:, None, :]].to(torch.int32)
        * (wy[dy][:, :, None] * wx[dx][:, None, :])[..., None]
        for dy in (0, 1)
        for dx in (0, 1)
    )
    return ((total * _WEIGHT_SCALE + _ROUND) >> _SHIFT).to(torch.uint8)


class FrameCrops:
    """One frame's crops on whichever device asks: OpenCV on the CPU (about 5x faster there
    than the torch warp), a ``DeviceFrame`` elsewhere, uploaded once per device and frame."""

    def __init__(self, rgb: np.ndarray) -> None:
        self._rgb = rgb
        self._on_device: dict[torch.device, DeviceFrame] = {}

    def crops(self, boxes: np.ndarray, device: torch.device) -> torch.Tensor:
        """(N, 3) boxes -> (N, 3, 224, 224) normalised crops on ``device``."""
        if device.type == "cpu":
            return crops.normalise_crops(crops.crop_uint8(self._rgb, boxes), device)
        frame = self._on_device.get(device)
        if frame is None:
            frame = self._on_device[device] = DeviceFrame(self._rgb, device)
        return frame.crops(boxes)
