"""Convolutions whose weights are laid out for oneDNN once instead of on every call.

On CPU, eager PyTorch copies each convolution's weights into oneDNN's blocked layout at every
call; for the PyMAF-X encoders that copy costs 10-20 % of their time. ``PackedConv`` keeps the
copy, as torch.compile's weight freezing does, through the same mkldnn operators but without
compiling anything. The layout oneDNN picks depends on the input shape (batch 1 differs from
larger batches), so one copy is kept per (batch 1 or more, height, width).

These are torch-internal operators: a torch build may lack them or change them. Each module
checks itself once per shape class (the packed result against the plain convolution on the
first input) and, on any failure, logs why once and computes the plain convolution from then
on, so a broken operator costs speed, never a wrong or crashed frame.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LOG = logging.getLogger(__name__)
_MKLDNN = torch.ops.mkldnn
# Self-check bound: oneDNN computes both paths; they differ by summation order only.
_CHECK_RTOL = 1e-4


def packing_available() -> bool:
    """Whether this torch build has the oneDNN convolution operators ``PackedConv`` uses."""
    return torch.backends.mkldnn.is_available() and all(
        hasattr(_MKLDNN, name)
        for name in (
            "_reorder_convolution_weight",
            "_convolution_pointwise",
            "_reorder_convolution_transpose_weight",
            "_convolution_transpose_pointwise",
        )
    )


class PackedConv(nn.Module):
    """A ``Conv2d`` or ``ConvTranspose2d`` with packed-weight CPU inference: same outputs as the
    wrapped layer (oneDNN computes both), computed faster.

    ``weight``/``bias`` stay the layer's parameters (same ``state_dict``). The packed copies are
    made at the first float32 CPU call per input-shape class and treated as frozen:
    ``load_state_dict`` drops them; anything else (GPU, other dtypes, autograd) takes the
    layer's ordinary path.
    """

    def __init__(self, conv: nn.Conv2d | nn.ConvTranspose2d) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError(f"only explicit zero padding can be packed: {conv}")
        self.transposed = isinstance(conv, nn.ConvTranspose2d)
        self.weight = conv.weight
        self.bias = conv.bias
        self.stride = list(conv.stride)
        self.padding = list(conv.padding)
        self.dilation = list(conv.dilation)
        self.output_padding = list(conv.output_padding)
        self.groups = conv.groups
        # Opaque oneDNN tensors: outside the state dict and untouched by .to().
        self.__dict__["packed"] = {}
        self.disabled: str | None = None  # why the packed path was given up, if it was
        self.register_load_state_dict_post_hook(lambda module, _: module.packed.clear())

    def _dense(self, x: Tensor) -> Tensor:
        if self.transposed:
            return F.conv_transpose2d(
                x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                self.groups, self.dilation,
            )  # fmt: skip
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def _pack(self, input_size: list[int]) -> Tensor:
        with torch.no_grad():
            if self.transposed:
                return _MKLDNN._reorder_convolution_transpose_weight(
                    self.weight, self.padding, self.output_padding, self.stride,
                    self.dilation, self.groups, input_size,
                )  # fmt: skip
            return _MKLDNN._reorder_convolution_weight(
                self.weight, self.padding, self.stride, self.dilation, self.groups, input_size
            )

    def forward(self, x: Tensor) -> Tensor:
        """[B, C_in, H, W] -> the wrapped layer's output (channels-last in, channels-last out)."""
        usable = (
            self.disabled is None
            and x.device.type == "cpu"
            and self.weight.device.type == "cpu"
            and x.dtype == self.weight.dtype == torch.float32
            and not (torch.is_grad_enabled() and self.weight.requires_grad)
        )
        if not usable:
            return self._dense(x)
        key = (min(x.shape[0], 2), x.shape[2], x.shape[3])
        packed = self.packed.get(key)
        if packed is not None:
            return self._packed(x, packed)
        return self._first_call(x, key)

    def _first_call(self, x: Tensor, key: tuple[int, int, int]) -> Tensor:
        """Pack for a new shape class and check the result against the plain convolution;
        on any failure give the packed path up for this module (logged once)."""
        expected = self._dense(x)
        try:
            packed = self._pack(list(x.shape))
            result = self._packed(x, packed)
            scale = float(expected.abs().max()) if expected.numel() else 0.0
            error = float((result - expected).abs().max()) if expected.numel() else 0.0
            if not error <= _CHECK_RTOL * max(scale, 1.0):
                raise RuntimeError(f"packed result differs by {error:.3g} (max |x| {scale:.3g})")
        except (RuntimeError, AttributeError, TypeError) as failure:
            self.disabled = f"{type(failure).__name__}: {failure}"
            self.packed.clear()
            LOG.warning(
                "oneDNN packed convolution unavailable (%s); this layer computes the plain "
                "convolution from now on (same result, slower)",
                self.disabled,
            )
            return expected
        self.packed[key] = packed
        return result

    def _packed(self, x: Tensor, packed: Tensor) -> Tensor:
        if self.transposed:
            return _MKLDNN._convolution_transpose_pointwise(
                x, packed, self.bias, self.padding, self.output_padding, self.stride,
                self.dilation, self.groups, "none", [], "",
            )  # fmt: skip
        return _MKLDNN._convolution_pointwise(
            x, packed, self.bias, self.padding, self.stride, self.dilation, self.groups,
            "none", [], "",
        )  # fmt: skip


def pack_convolutions(module: nn.Module) -> int:
    """Put a ``PackedConv`` in place of every Conv2d / ConvTranspose2d of ``module``; returns
    how many (none when this torch build lacks the operators)."""
    if not packing_available():
        return 0
    swaps = [
        (parent, name, child)
        for parent in module.modules()
        for name, child in parent.named_children()
        if type(child) in (nn.Conv2d, nn.ConvTranspose2d)
    ]
    for parent, name, child in swaps:
        setattr(parent, name, PackedConv(child))
    return len(swaps)
