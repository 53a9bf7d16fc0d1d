"""Spatial alignment attention (``align_attention.*``): one BERT encoder layer over sampled points.

The official module is a single post-LayerNorm BERT layer (one head, hidden 64, GELU FFN of
width 128) applied to [grid points; mesh points] tokens, each embedded from its image feature plus
a learned position embedding. Submodule names follow the BERT layout so checkpoint keys match.
The attention mask of the official code is all ones, i.e. it adds zero, so it is left out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN = 64
FFN_WIDTH = 128
LAYER_NORM_EPS = 1e-12
MIN_POSITIONS = 900


class _SelfAttention(nn.Module):
    """Single-head scaled dot-product attention with BERT's query/key/value names.

    The fused kernel never materialises the P x P score matrix (P up to 1149 points); it equals
    softmax(q k^T / sqrt(64)) v to float rounding (the 1/8 scale is exact in binary).
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        # [B, P, H] -> one head: [B, 1, P, H] (the 4D layout has the fast CPU kernel).
        q, k, v = (layer(tokens).unsqueeze(1) for layer in (self.query, self.key, self.value))
        return F.scaled_dot_product_attention(q, k, v).squeeze(1)


class _ResidualNorm(nn.Module):
    """Linear projection, residual add, LayerNorm (BERT's ``*Output`` blocks)."""

    def __init__(self, in_features: int, hidden: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=LAYER_NORM_EPS)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.add_module("self", _SelfAttention(hidden))
        self.output = _ResidualNorm(hidden, hidden)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.output(self.get_submodule("self")(tokens), tokens)


class _Intermediate(nn.Module):
    def __init__(self, hidden: int, width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, hidden: int, width: int) -> None:
        super().__init__()
        self.attention = _Attention(hidden)
        self.intermediate = _Intermediate(hidden, width)
        self.output = _ResidualNorm(width, hidden)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        attended = self.attention(tokens)
        return self.output(self.intermediate(attended), attended)


class _Encoder(nn.Module):
    def __init__(self, hidden: int, width: int) -> None:
        super().__init__()
        self.layer = nn.ModuleList([_Layer(hidden, width)])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            tokens = layer(tokens)
        return tokens


class AlignmentAttention(nn.Module):
    """[B, P, C] point features -> [B, P, 64] attended tokens (P <= number of position slots).

    Position slots: max(900, ``num_points``) as in the official ``get_att_block``.
    """

    def __init__(self, in_channels: int, num_points: int) -> None:
        super().__init__()
        self.encoder = _Encoder(HIDDEN, FFN_WIDTH)
        self.position_embeddings = nn.Embedding(max(MIN_POSITIONS, num_points), HIDDEN)
        self.img_embedding = nn.Linear(in_channels, HIDDEN)

    def forward(self, point_features: torch.Tensor) -> torch.Tensor:
        num_points = point_features.shape[1]
        positions = self.position_embeddings.weight[:num_points]
        return self.encoder(positions + self.img_embedding(point_features))
