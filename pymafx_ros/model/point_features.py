"""Image features the feedback loop samples and reduces for its regressors.

Iteration 0 reads a fixed 21x21 grid of points through a point MLP; later iterations read the
grid plus the previous mesh's projected points through the spatial alignment attention, the
point MLP and a linear fusion (the release's ``maf_extractor``, ``align_attention``,
``att_feat_reduce``). Flattening is channel-major, which the checkpoint's fusion weights expect.
"""

from __future__ import annotations

import torch
from torch import nn

from pymafx_ros.model.bilinear import bilinear_sample, sample_rows
from pymafx_ros.model.parity_probe import Tensors, record

GRID_POINTS = 441


def grid_features(
    part: str,
    point_mlp: nn.Module,
    grid_points: torch.Tensor,
    feature_map: torch.Tensor,
    probe: Tensors | None = None,
) -> torch.Tensor:
    """Iteration 0: grid_points [1, 2, 441], feature_map [N, C, H, W] -> [N, 5 * 441]."""
    grid = grid_points.transpose(1, 2).expand(feature_map.shape[0], -1, -1)
    reduced = point_mlp(bilinear_sample(feature_map, grid))
    record(probe, part, "maf_{}0_grid_points", grid)
    record(probe, part, "maf_{}0_grid_feat", reduced)
    return reduced.flatten(1)


def aligned_features(
    part: str,
    t: int,
    modules: tuple[nn.Module, nn.Module, nn.Module | None],
    grid_points: torch.Tensor,
    feature_map: torch.Tensor,
    points: torch.Tensor,
    probe: Tensors | None = None,
) -> torch.Tensor:
    """Iterations 1, 2: attention over [grid; mesh] point features, point MLP and fusion.

    modules = (attention, point MLP, fusion Linear) of iteration t; feature_map [N, C, H, W],
    points [N, M, 2] -> [N, 2048 | 1024], or the fusion's input [N, 5 * (441 + M)] when the
    fusion is None (a ``FoldedStep`` applies it). Grid and mesh points are sampled in one call;
    bilinear sampling is per point, so this equals two calls.
    """
    attention, point_mlp, fuse = modules
    grid = grid_points.transpose(1, 2).expand(feature_map.shape[0], -1, -1)
    sampled = sample_rows(feature_map, torch.cat([grid, points], dim=1))  # [N, 441 + M, C]
    attended = attention(sampled)
    reduced = point_mlp(attended.transpose(1, 2))
    fuse_in = reduced.flatten(1)
    if fuse is None:
        return fuse_in
    fused = fuse(fuse_in)
    if probe is not None:
        for name, value in (
            (f"maf_{{}}{t}_grid_points", grid),
            (f"maf_{{}}{t}_mesh_points", points),
            (f"maf_{{}}{t}_grid_feat_chanmean", sampled[:, :GRID_POINTS].mean(1)),
            (f"maf_{{}}{t}_mesh_feat_chanmean", sampled[:, GRID_POINTS:].mean(1)),
            (f"att_{{}}{t - 1}_out", attended),
            (f"fuse_{{}}{t - 1}_in", fuse_in),
            (f"fuse_{{}}{t - 1}_out", fused),
        ):
            record(probe, part, name, value)
    return fused
