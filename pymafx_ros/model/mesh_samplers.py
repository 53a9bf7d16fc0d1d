"""Fixed mesh down-sampling of the release (``mesh_sampler``, ``mano_sampler``,
``flame_sampler``) and the IUV head the checkpoint carries but inference never runs.
"""

from __future__ import annotations

import torch
from torch import nn

BODY_FINEST_CHANNELS = 48  # channels of the finest HRNet map, the IUV head's input


class DensePoseHead(nn.Module):
    """IUV head on the 56x56 body map (``dp_head``): part of the checkpoint, never run here."""

    def __init__(self, in_channels: int = BODY_FINEST_CHANNELS) -> None:
        super().__init__()
        for name, channels in (("ann_index", 15), ("uv_index", 25), ("u", 25), ("v", 25)):
            self.add_module(f"predict_{name}", nn.Conv2d(in_channels, channels, 3, padding=1))


class MatrixSampler(nn.Module):
    """Mesh down-sampling by a fixed matrix (``mesh_sampler``, ``mano_sampler``): ``Dmap`` maps
    the full mesh to the loop's points, ``Umap`` is the unused up-sampling matrix, kept for the
    checkpoint. Applied by ``LoopPoints``, which PyMAFX rebuilds whenever a state dict loads."""

    def __init__(self, down: torch.Tensor, up: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("Dmap", down)
        self.register_buffer("Umap", up)


class IndexSampler(nn.Module):
    """Mesh down-sampling by vertex selection (``flame_sampler``), applied by ``LoopPoints``."""

    def __init__(self, indices: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("sampling_idx", indices)
