"""A fixed sparse linear map between meshes (SMPL-X -> SMPL topology), batched and exportable.

The official code multiplies by the dense 6890x10475 matrix; it has a handful of non-zeros per
row, so a padded gather-and-weight gives the same vertices for a tiny fraction of the work and
exports to ONNX as Gather/Mul/ReduceSum. Rows with many non-zeros fall back to torch.sparse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

# Above this many non-zeros in a row, the padded gather wastes more than sparse matmul costs.
MAX_GATHER_WIDTH = 16


class SparseVertexMap(nn.Module):
    """out[b, r] = sum_c M[r, c] * vertices[b, c] for a fixed float32 CSR matrix M (R x C)."""

    def __init__(self, matrix: sp.csr_matrix, max_gather_width: int = MAX_GATHER_WIDTH) -> None:
        super().__init__()
        csr = sp.csr_matrix(matrix, dtype=np.float32)
        csr.sort_indices()
        self.num_rows, self.num_cols = csr.shape
        counts = np.diff(csr.indptr)
        width = max(int(counts.max(initial=0)), 1)
        self.use_gather = width <= max_gather_width
        if self.use_gather:
            # Row r holds its non-zeros in slots [0, counts[r]); padding has weight 0, index 0.
            slot = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], counts)
            rows = np.repeat(np.arange(self.num_rows), counts)
            index = np.zeros((self.num_rows, width), dtype=np.int64)
            weight = np.zeros((self.num_rows, width), dtype=np.float32)
            index[rows, slot] = csr.indices
            weight[rows, slot] = csr.data
            self.register_buffer("index", torch.from_numpy(index), persistent=False)
            self.register_buffer("weight", torch.from_numpy(weight), persistent=False)
        else:
            coo = csr.tocoo()
            indices = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64))
            sparse = torch.sparse_coo_tensor(
                indices, torch.from_numpy(coo.data), csr.shape, check_invariants=True
            )
            self.register_buffer("matrix", sparse.coalesce(), persistent=False)

    def forward(self, vertices: torch.Tensor) -> torch.Tensor:
        """vertices: [B, C, 3] -> [B, R, 3]."""
        if self.use_gather:
            picked = vertices[:, self.index]  # [B, R, W, 3]
            return (picked * self.weight[None, :, :, None]).sum(dim=2)
        batch = vertices.shape[0]
        flat = vertices.permute(1, 0, 2).reshape(self.num_cols, -1)  # [C, B*3]
        mapped = torch.sparse.mm(self.matrix, flat)  # [R, B*3]
        return mapped.reshape(self.num_rows, batch, 3).permute(1, 0, 2)
