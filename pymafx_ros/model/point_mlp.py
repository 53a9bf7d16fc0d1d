"""Per-point MLP that shrinks sampled image features to 5 numbers per point (``maf_extractor.*``).

Equivalent of the official ``MAF_Extractor``: 1x1 Conv1d layers, each layer after the first also
sees the raw input again (skip concatenation), leaky ReLU between layers and ReLU at the end.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PointMLP(nn.Module):
    """Conv1d stack over points: [B, C_in, N] -> [B, C_out, N].

    ``channels`` = [C_in, hidden..., C_out]. ``dmap``/``umap`` are the SMPL 431<->6890 maps the
    official module stores; they are kept only so the checkpoint loads strictly and are never used
    (callers may pass one tensor to several instances to save memory).
    """

    def __init__(self, channels: list[int], dmap: torch.Tensor, umap: torch.Tensor) -> None:
        super().__init__()
        self.num_layers = len(channels) - 1
        for i in range(self.num_layers):
            in_ch = channels[i] + (channels[0] if i > 0 else 0)
            self.add_module(f"conv{i}", nn.Conv1d(in_ch, channels[i + 1], 1))
        self.register_buffer("Dmap", dmap)
        self.register_buffer("Umap", umap)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[B, C_in, N] point features -> [B, C_out, N] (non-negative)."""
        y = features
        for i in range(self.num_layers):
            conv = getattr(self, f"conv{i}")
            y = conv(y if i == 0 else torch.cat([y, features], dim=1))
            if i < self.num_layers - 1:
                y = F.leaky_relu(y)
        return F.relu(y)
