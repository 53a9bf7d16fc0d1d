"""The encoders' stride-2 4x4 deconvolutions as four 2x2 convolutions, one per output phase.

OpenVINO keeps deconvolutions in fp32 under a bf16 hint on CPUs without AMX: 15 of a face crop's
37 ms on an AVX512-BF16 machine. Output pixel (2m+a, 2n+b) of such a deconvolution is a 2x2
convolution of the input around (m, n) with four of the sixteen taps, so four convolutions with
the same multiply count, interleaved, compute it; convolutions do run in bf16 (the three blocks
of a crop: 15 -> 9 ms). Only the bf16 export uses it: in fp32 it is no faster.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Output parity -> (kernel index read by the first and by the second input row of the 2x2
# window, padding before and after): output row 2m+a receives kernel row ky of input row i
# where 2i - 1 + ky = 2m + a, i.e. rows (m-1, m) with ky (3, 1) for a = 0, rows (m, m+1) with
# ky (2, 0) for a = 1. Columns likewise.
_PHASES = {0: ((3, 1), (1, 0)), 1: ((2, 0), (0, 1))}


class PhaseDeconvolution(nn.Module):
    """Equal to ``ConvTranspose2d(C_in, C, 4, stride=2, padding=1, bias=False)`` up to the
    order of its sums: x [N, C_in, H, W] -> [N, C, 2H, 2W]."""

    def __init__(self, deconv: nn.ConvTranspose2d) -> None:
        super().__init__()
        geometry = (
            deconv.kernel_size, deconv.stride, deconv.padding, deconv.output_padding,
            deconv.dilation, deconv.groups, deconv.bias is None,
        )  # fmt: skip
        if geometry != ((4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1, True):
            raise ValueError(
                "PhaseDeconvolution handles ConvTranspose2d(k=4, stride=2, padding=1, no bias, "
                f"no groups) only, got {deconv}"
            )
        weight = deconv.weight.detach()  # [C_in, C, 4, 4]
        self.channels = weight.shape[1]
        self.pads: list[tuple[int, int, int, int]] = []
        self.phases = nn.ModuleList()
        for row_parity in (0, 1):
            for col_parity in (0, 1):
                rows, (top, bottom) = _PHASES[row_parity]
                cols, (left, right) = _PHASES[col_parity]
                taps = weight[:, :, list(rows)][:, :, :, list(cols)]  # [C_in, C, 2, 2]
                conv = nn.Conv2d(weight.shape[0], self.channels, 2, bias=False)
                conv.weight = nn.Parameter(taps.transpose(0, 1).contiguous(), requires_grad=False)
                self.phases.append(conv)
                self.pads.append((left, right, top, bottom))

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        outputs = [conv(F.pad(x, pad)) for conv, pad in zip(self.phases, self.pads, strict=True)]
        # [N, (row parity, col parity, C), H, W] -> [N, C, H, row parity, W, col parity].
        grid = torch.cat(outputs, 1).view(batch, 2, 2, self.channels, height, width)
        return grid.permute(0, 3, 4, 1, 5, 2).reshape(batch, self.channels, 2 * height, 2 * width)


def with_phase_deconvolutions(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose ConvTranspose2d layers are ``PhaseDeconvolution``s (the
    original is left as it is)."""
    rewritten = copy.deepcopy(module)
    for name, child in list(rewritten.named_modules()):
        if isinstance(child, nn.ConvTranspose2d):
            parent_name, _, attribute = name.rpartition(".")
            parent = rewritten.get_submodule(parent_name) if parent_name else rewritten
            setattr(parent, attribute, PhaseDeconvolution(child))
    return rewritten
