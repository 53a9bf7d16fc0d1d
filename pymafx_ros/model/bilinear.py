"""Bilinear sampling of feature maps at a few hundred points, as one row gather.

Equal to ``F.grid_sample(mode="bilinear", padding_mode="zeros", align_corners=False)`` but built
from index arithmetic, one ``index_select`` and a weighted sum, so every exporter and runtime maps
it the same way: ONNX's GridSample (opset 16+) was renamed in opset 20, TensorRT's parser then
silently falls back to nearest, and Torch-TensorRT has had its modes swapped (see the acceleration
notes). The map is read as rows of channels (``[N*H*W, C]``) so the export is a plain ONNX
``Gather`` of whole rows, which runtimes run as a memory copy (OpenVINO's element-wise
``GatherElements`` kernel was 8 ms of the 50 ms head). Corners outside the map contribute zero,
as with ``padding_mode="zeros"``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sample_rows(feature_map: Tensor, points: Tensor) -> Tensor:
    """feature_map [N, C, H, W], points [N, P, 2] (x, y in [-1, 1], -1 = outer edge of the
    first pixel) -> features [N, P, C] (point-major, as the attention tokens want them)."""
    if feature_map.dim() != 4 or points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(
            "bilinear_sample: expected feature_map [N,C,H,W] and points [N,P,2], got "
            f"{tuple(feature_map.shape)} and {tuple(points.shape)}"
        )
    batch, channels, height, width = feature_map.shape
    count = points.shape[1]
    # Pixel coordinates of align_corners=False: -1 -> -0.5, +1 -> size - 0.5.
    x = ((points[..., 0] + 1.0) * width - 1.0) / 2.0
    y = ((points[..., 1] + 1.0) * height - 1.0) / 2.0
    x0 = torch.floor(x)
    y0 = torch.floor(y)
    fx = x - x0
    fy = y - y0
    weights = []
    indices = []
    for dy, wy in ((0.0, 1.0 - fy), (1.0, fy)):
        for dx, wx in ((0.0, 1.0 - fx), (1.0, fx)):
            cx = x0 + dx
            cy = y0 + dy
            inside = (cx >= 0) & (cx <= width - 1) & (cy >= 0) & (cy <= height - 1)
            weights.append(torch.where(inside, wx * wy, torch.zeros_like(wx)))  # [N, P]
            indices.append(cy.clamp(0, height - 1) * width + cx.clamp(0, width - 1))
    # Row of map n's pixel i in the stacked [N*H*W, C] table: n*H*W + i.
    first_row = torch.arange(batch, device=points.device).mul(height * width).view(batch, 1, 1)
    rows = torch.stack(indices, dim=1).long() + first_row  # [N, 4, P]
    table = feature_map.flatten(2).transpose(1, 2).reshape(-1, channels)  # [N*H*W, C]
    corners = table.index_select(0, rows.reshape(-1)).view(batch, 4, count, channels)
    total = corners[:, 0] * weights[0].unsqueeze(-1)
    for corner in range(1, 4):
        total = total + corners[:, corner] * weights[corner].unsqueeze(-1)
    return total


def bilinear_sample(feature_map: Tensor, points: Tensor) -> Tensor:
    """feature_map [N, C, H, W], points [N, P, 2] -> features [N, C, P] (channel-major)."""
    return sample_rows(feature_map, points).transpose(1, 2)
