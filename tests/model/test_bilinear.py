"""The gather-based sampler equals F.grid_sample(align_corners=False, zeros padding)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pymafx_ros.model.bilinear import bilinear_sample


def _reference(feature_map: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    grid = points.unsqueeze(2)
    return F.grid_sample(feature_map, grid, mode="bilinear", align_corners=False)[..., 0]


@pytest.mark.parametrize(("height", "width"), [(14, 14), (56, 56), (7, 12)])
def test_matches_grid_sample_inside_on_edges_and_outside(height, width):
    generator = torch.Generator().manual_seed(height * width)
    feature_map = torch.randn(3, 16, height, width, generator=generator)
    inside = torch.rand(3, 300, 2, generator=generator) * 2 - 1
    outside = torch.rand(3, 200, 2, generator=generator) * 5 - 2.5  # up to 2.5 map widths off
    edges = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.0, 1.0]])
    pixel_centres = torch.tensor([[-1 + 1 / width, -1 + 1 / height], [1 - 1 / width, 0.0]])
    special = torch.cat([edges, pixel_centres]).expand(3, -1, -1)
    points = torch.cat([inside, outside, special], dim=1)
    expected = _reference(feature_map, points)
    actual = bilinear_sample(feature_map, points)
    assert actual.shape == expected.shape == (3, 16, 507)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)
    # Far outside the map every corner is outside: exactly zero, as with zeros padding.
    far = bilinear_sample(feature_map, torch.full((3, 4, 2), 3.0))
    assert torch.count_nonzero(far) == 0


def test_no_python_branching_on_values_exports_with_free_sizes():
    class Sampler(torch.nn.Module):
        def forward(self, feature_map, points):
            return bilinear_sample(feature_map, points)

    batch = torch.export.Dim("batch", min=1, max=64)
    count = torch.export.Dim("count", min=1, max=4096)
    program = torch.export.export(
        Sampler(),
        (torch.randn(2, 8, 14, 14), torch.rand(2, 33, 2) * 2 - 1),
        dynamic_shapes=({0: batch}, {0: batch, 1: count}),
    )
    feature_map = torch.randn(5, 8, 14, 14)
    points = torch.rand(5, 71, 2) * 3 - 1.5
    torch.testing.assert_close(
        program.module()(feature_map, points), _reference(feature_map, points), atol=1e-5, rtol=0
    )


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"feature_map \[N,C,H,W\] and points \[N,P,2\]"):
        bilinear_sample(torch.zeros(1, 2, 3), torch.zeros(1, 4, 2))
