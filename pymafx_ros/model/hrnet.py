"""HRNet-W48 body encoder of PyMAF-X (``encoders.body``), without the classification head.

Keeps every parameter of the official ``PoseHighResolutionNet`` (the released checkpoint loads
with ``strict=True``) but only computes what PyMAF-X consumes: the stage-4 maps of the three
finest branches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from pymafx_ros.model.conv_blocks import (
    BasicBlock,
    Bottleneck,
    ImageEncoder,
    conv1x1,
    conv3x3,
    residual_stack,
)

HRNET_W48_CHANNELS = (48, 96, 192, 384)
"""Branch widths of HRNet-W48, finest (1/4 of the input) to coarsest (1/32)."""


def _conv_bn(in_channels: int, out_channels: int, stride: int, relu: bool) -> nn.Sequential:
    """3x3 conv + BN (+ ReLU): the unit of transitions and downward fuse paths."""
    layers: list[nn.Module] = [conv3x3(in_channels, out_channels, stride)]
    layers.append(nn.BatchNorm2d(out_channels))
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _fuse_path(channels: Sequence[int], src: int, dst: int) -> nn.Module:
    """Resample branch ``src`` onto branch ``dst``'s resolution and width.

    Coarser -> finer: 1x1 conv + BN + nearest upsampling; finer -> coarser: a chain of stride-2
    3x3 conv+BN, ReLU between links but not after the last (the sum is rectified later).
    """
    if src == dst:
        return nn.Identity()
    if src > dst:
        return nn.Sequential(
            conv1x1(channels[src], channels[dst]),
            nn.BatchNorm2d(channels[dst]),
            nn.Upsample(scale_factor=2 ** (src - dst), mode="nearest"),
        )
    steps = dst - src
    links = [_conv_bn(channels[src], channels[src], 2, relu=True) for _ in range(steps - 1)]
    links.append(_conv_bn(channels[src], channels[dst], 2, relu=False))
    return nn.Sequential(*links)


class HighResolutionModule(nn.Module):
    """Parallel residual branches, then every output branch sums all branches resampled to it.

    ``fused_outputs`` limits how many (finest-first) fused outputs ``forward`` computes; the fuse
    layers of the others stay registered so the state dict keeps the official layout.
    """

    def __init__(
        self,
        channels: Sequence[int],
        blocks_per_branch: int = 4,
        fused_outputs: int | None = None,
    ) -> None:
        super().__init__()
        n = len(channels)
        if n < 2:
            raise ValueError(f"a high-resolution module needs >= 2 branches, got {len(channels)}")
        if fused_outputs is not None and not 1 <= fused_outputs <= n:
            raise ValueError(f"fused_outputs must be in [1, {n}], got {fused_outputs}")
        self.fused_outputs = n if fused_outputs is None else fused_outputs
        self.branches = nn.ModuleList(
            residual_stack(BasicBlock, c, c, blocks_per_branch) for c in channels
        )
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(_fuse_path(channels, src, dst) for src in range(n)) for dst in range(n)
        )

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        """xs[i]: [B, C_i, H/2^i, W/2^i] -> the first ``fused_outputs`` fused maps, same shapes."""
        feats = [branch(x) for branch, x in zip(self.branches, xs, strict=True)]
        fused = []
        for paths in self.fuse_layers[: self.fused_outputs]:
            # Same summation order as the official code (branch 0 first) for float parity. The
            # first sum is a fresh tensor (an identity path returns a branch map, which other
            # outputs still read), so the rest accumulates in place.
            total = paths[0](feats[0]) + paths[1](feats[1])
            for path, feat in zip(paths[2:], feats[2:], strict=True):
                total += path(feat)
            fused.append(F.relu(total, inplace=True))
        return fused


def _transition(previous: Sequence[int], current: Sequence[int]) -> nn.ModuleList:
    """Adapt the previous stage's branches to the next stage; a new branch is one stride-2
    conv on the coarsest previous map (so ``transition<k>.<i>.0.*`` keys for it)."""
    layers: list[nn.Module] = []
    for i, width in enumerate(current):
        if i < len(previous):
            same = previous[i] == width
            layers.append(nn.Identity() if same else _conv_bn(previous[i], width, 1, relu=True))
        else:
            layers.append(nn.Sequential(_conv_bn(previous[-1], width, 2, relu=True)))
    return nn.ModuleList(layers)


def _stage(channels: Sequence[int], num_modules: int, last_fused: int | None) -> nn.Sequential:
    """``num_modules`` high-resolution modules; the last computes ``last_fused`` outputs."""
    modules = [HighResolutionModule(channels) for _ in range(num_modules - 1)]
    modules.append(HighResolutionModule(channels, fused_outputs=last_fused))
    return nn.Sequential(*modules)


class HRNetW48Encoder(ImageEncoder):
    """PyMAF-X body backbone: [B,3,224,224] -> [192x14x14, 96x28x28, 48x56x56] feature maps.

    State-dict layout equals the official ``encoders.body`` entries (including the 384-channel
    branch and its fuse layers, needed for strict checkpoint loading).
    """

    def __init__(self, num_output_levels: int = 3) -> None:
        super().__init__()
        if not 1 <= num_output_levels <= len(HRNET_W48_CHANNELS):
            raise ValueError(f"num_output_levels must be in [1, 4], got {num_output_levels}")
        self.num_output_levels = num_output_levels
        c = HRNET_W48_CHANNELS
        self.conv1 = conv3x3(3, 64, stride=2)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = conv3x3(64, 64, stride=2)
        self.bn2 = nn.BatchNorm2d(64)
        self.layer1 = residual_stack(Bottleneck, 64, 64, 4)
        stem_width = 64 * Bottleneck.expansion
        self.transition1 = _transition([stem_width], c[:2])
        self.stage2 = _stage(c[:2], 1, None)
        self.transition2 = _transition(c[:2], c[:3])
        self.stage3 = _stage(c[:3], 4, None)
        self.transition3 = _transition(c[:3], c)
        self.stage4 = _stage(c, 3, num_output_levels)

    @staticmethod
    def _enter_stage(transition: nn.ModuleList, feats: list[Tensor]) -> list[Tensor]:
        """Inputs of the next stage: existing branches adapted, new ones from the coarsest map."""
        return [
            layer(feats[i] if i < len(feats) else feats[-1]) for i, layer in enumerate(transition)
        ]

    def forward(self, x: Tensor) -> list[Tensor]:
        """x: [B,3,H,W] normalised RGB (H, W multiples of 32) -> stage-4 maps, coarsest first:
        [B,192,H/16,W/16], [B,96,H/8,W/8], [B,48,H/4,W/4] (PyMAF-X's iteration order)."""
        x = self.checked_input(x)
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = F.relu(self.bn2(self.conv2(x)), inplace=True)
        feats = [self.layer1(x)]
        feats = self.stage2(self._enter_stage(self.transition1, feats))
        feats = self.stage3(self._enter_stage(self.transition2, feats))
        feats = self.stage4(self._enter_stage(self.transition3, feats))
        return feats[::-1]
