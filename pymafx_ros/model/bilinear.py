"""Bilinear sampling of feature maps at a few hundred points, as gathers.

Equal to ``F.grid_sample(mode="bilinear", padding_mode="zeros", align_corners=False)`` but built
from index arithmetic, ``gather`` and a weighted sum, so every exporter and runtime maps it the
same way: ONNX's GridSample (opset 16+) was renamed in opset 20, TensorRT's parser then silently
falls back to nearest, and Torch-TensorRT has had its modes swapped (see the acceleration notes).
Corners outside the map contribute zero, as with ``padding_mode="zeros"``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def bilinear_sample(feature_map: Tensor, points: Tensor) -> Tensor:
    """feature_map [N, C, H, W], points [N, P, 2] (x, y in [-1, 1], -1 = outer edge of the
    first pixel) -> features [N, C, P]."""
    if feature_map.dim() != 4 or points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(
            "bilinear_sample: expected feature_map [N,C,H,W] and points [N,P,2], got "
            f"{tuple(feature_map.shape)} and {tuple(points.shape)}"
        )
    channels, height, width = feature_map.shape[1:]
    # Pixel coordinates of align_corners=False: -1 -> -0.5, +1 -> size - 0.5.
    x = ((points[..., 0] + 1.0) * width - 1.0) / 2.0
    y = ((points[..., 1] + 1.0) * height - 1.0) / 2.0
    x0 = torch.floor(x)
    y0 = torch.floor(y)
    fx = x - x0
    fy = y - y0
    flat = feature_map.flatten(2)  # [N, C, H*W]
    total = None
    for dy, wy in ((0.0, 1.0 - fy), (1.0, fy)):
        for dx, wx in ((0.0, 1.0 - fx), (1.0, fx)):
            cx = x0 + dx
            cy = y0 + dy
            inside = (cx >= 0) & (cx <= width - 1) & (cy >= 0) & (cy <= height - 1)
            weight = torch.where(inside, wx * wy, torch.zeros_like(wx))  # [N, P]
            index = (cy.clamp(0, height - 1) * width + cx.clamp(0, width - 1)).long()
            values = torch.gather(flat, 2, index.unsqueeze(1).expand(-1, channels, -1))
            term = values * weight.unsqueeze(1)
            total = term if total is None else total + term
    return total
