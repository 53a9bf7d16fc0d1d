"""Encoder programs that compute in fp16 for the TensorRT compile step.

Precision is explicit in the graph, never left to the builder: an ``fp16`` encoder is its
program re-exported with fp16 weights and casts at its boundary (fp32 crops in, fp32 maps out),
so every convolution is typed fp16 and nothing else changes.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.export import ExportedProgram

from pymafx_ros.backends.export.programs import batch_dim, batch_range, keep_size_one_dynamic

_DTYPES = {"fp16": torch.float16, "fp32": torch.float32}


class TypedEncoder(nn.Module):
    """An encoder computing in ``dtype`` on fp32 crops; its maps come back as fp32."""

    def __init__(self, encoder: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.encoder = encoder.to(dtype)
        self.dtype = dtype

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(level.float() for level in self.encoder(image.to(self.dtype)))


def typed_encoder_program(program: ExportedProgram, precision: str) -> ExportedProgram:
    """An encoder ``ExportedProgram`` [N,3,224,224] -> maps, computing in ``precision``: the
    program itself for fp32, else its graph re-exported with weights and activations in that
    dtype and the same batch range (a copy: ``program`` keeps its fp32 weights)."""
    dtype = _DTYPES[precision]
    if dtype == torch.float32:
        return program
    # deepcopy: .to() converts parameters in place, which would change ``program`` too.
    typed = TypedEncoder(copy.deepcopy(program.module()), dtype).eval()
    (example,), _ = program.example_inputs
    crops = batch_range(program)
    with torch.no_grad(), keep_size_one_dynamic(crops):
        return torch.export.export(
            typed, (example,), dynamic_shapes=({0: batch_dim("crops", crops)},)
        )
