"""Building blocks shared by the HRNet and PoseResNet encoders: residual blocks, the input
check and the compiled inference path.

Attribute names (``conv1``, ``bn1``, ..., ``downsample.0/1``) follow the torchvision layout the
official checkpoint was saved with, so its state dict loads strictly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """Bias-free 3x3 convolution with 'same' padding (spatial size divided by ``stride``)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """Bias-free pointwise convolution."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when shapes already match, else a strided 1x1 projection + BN."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 conv+BN with a residual shortcut: [B,Cin,H,W] -> [B,C,H/stride,W/stride]."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = _shortcut(in_channels, channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.downsample(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries the stride), 1x1 expand x4, residual: -> [B,4C,H/s,W/s]."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.downsample(x))


def residual_stack(
    block: type[BasicBlock] | type[Bottleneck],
    in_channels: int,
    channels: int,
    num_blocks: int,
    stride: int = 1,
) -> nn.Sequential:
    """``num_blocks`` blocks; only the first may stride or change the channel count."""
    width = channels * block.expansion
    layers = [block(in_channels, channels, stride)]
    layers += [block(width, channels) for _ in range(num_blocks - 1)]
    return nn.Sequential(*layers)


def check_image_batch(x: Tensor, owner: str) -> None:
    """Reject anything but a float [B,3,H,W] batch with a message that says what was given."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(
            f"{owner} expects a normalised RGB batch of shape [B,3,224,224], got "
            f"{tuple(x.shape)}; add a batch dimension / convert HWC to CHW first"
        )
    if not torch.is_floating_point(x):
        raise TypeError(
            f"{owner} expects a floating-point image batch, got {x.dtype}; "
            "normalise uint8 images with the ImageNet mean/std first"
        )


class ImageEncoder(nn.Module):
    """Base of the PyMAF-X encoders: [B,3,H,W] image batch -> list of feature maps."""

    def compiled_for_inference(self) -> Callable[[Tensor], list[Tensor]]:
        """This encoder under ``torch.compile`` with its weights frozen as constants (BN folded
        into the convolutions, weights prepacked): same function, float rounding aside.

        For eval-mode calls under ``torch.no_grad()`` (freezing is skipped when grad is on).
        The first call per input shape compiles (needs a C++ compiler; at 2 threads ~30 s for
        PoseResNet, ~2 min for HRNet-W48, cached by inductor across runs). The module and its
        ``state_dict`` are untouched; the compiled graph holds folded copies of the weights
        taken at the first call, so load the checkpoint before compiling.
        """
        if self.training:
            raise RuntimeError(
                f"{type(self).__name__}: call .eval() before compiling for inference"
            )
        return torch.compile(self, options={"freezing": True})
