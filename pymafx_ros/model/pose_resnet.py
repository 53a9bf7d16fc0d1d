"""PoseResNet-50 hand/face encoder of PyMAF-X (``encoders.hand``, ``encoders.face``).

ResNet-50 trunk (stride on the 3x3 of each bottleneck) followed by three stride-2 deconvolution
blocks; PyMAF-X reads each deconvolution block's output as one level of its feature pyramid.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from pymafx_ros.model.conv_blocks import (
    Bottleneck,
    ImageEncoder,
    residual_stack,
)

RESNET50_BLOCKS = (3, 4, 6, 3)
"""Bottlenecks per ResNet-50 layer."""


def _deconv_layers(in_channels: int, widths: tuple[int, ...]) -> nn.Sequential:
    """[ConvTranspose2d(k4, s2, p1, no bias), BN, ReLU] per width, flat so that the keys read
    ``deconv_layers.{3k}.weight`` / ``deconv_layers.{3k+1}.*`` like the official checkpoint."""
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(nn.ConvTranspose2d(in_channels, width, 4, stride=2, padding=1, bias=False))
        layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU())
        in_channels = width
    return nn.Sequential(*layers)


class PoseResNetDeconvEncoder(ImageEncoder):
    """[B,3,224,224] -> [256x14x14, 256x28x28, 256x56x56], one map per deconvolution block.

    State-dict layout equals the official ``encoders.hand`` (and ``encoders.face``) entries.
    """

    def __init__(self, deconv_widths: tuple[int, ...] = (256, 256, 256)) -> None:
        super().__init__()
        if not deconv_widths:
            raise ValueError("deconv_widths must name at least one deconvolution block")
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = residual_stack(Bottleneck, 64, 64, RESNET50_BLOCKS[0])
        self.layer2 = residual_stack(Bottleneck, 256, 128, RESNET50_BLOCKS[1], stride=2)
        self.layer3 = residual_stack(Bottleneck, 512, 256, RESNET50_BLOCKS[2], stride=2)
        self.layer4 = residual_stack(Bottleneck, 1024, 512, RESNET50_BLOCKS[3], stride=2)
        self.deconv_layers = _deconv_layers(2048, deconv_widths)

    def forward(self, x: Tensor) -> list[Tensor]:
        """x: [B,3,H,W] normalised RGB (H, W multiples of 32) -> per deconvolution block
        [B,256,H/16,W/16], [B,256,H/8,W/8], [B,256,H/4,W/4]."""
        x = self.checked_input(x)
        x = self.maxpool(F.relu(self.bn1(self.conv1(x)), inplace=True))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        levels = []
        # Every third layer closes a [deconv, BN, ReLU] block whose output is one pyramid level.
        for index, layer in enumerate(self.deconv_layers):
            x = layer(x)
            if index % 3 == 2:
                levels.append(x)
        return levels
