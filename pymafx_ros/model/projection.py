"""Weak-perspective ("IWP") projection and the fixed sampling grid of the PyMAF-X feedback loop.

The official code projects with a 5000 px focal length and a depth derived from the camera scale,
then divides by half the 224 px crop; the steps are kept in that order so that sampling points
agree with it to float32 rounding.
"""

from __future__ import annotations

import torch

FOCAL_LENGTH = 5000.0
CROP_SIZE = 224.0
GRID_SIZE = 21


def project_points(points: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """Project 3D points [B,N,3] with weak-perspective cams [B,3] = (s, tx, ty) to [-1,1] coords.

    Returns [B,N,2] in the crop's normalised frame (x = width), the frame ``grid_sample`` uses.
    """
    tz = 2.0 * FOCAL_LENGTH / (CROP_SIZE * cam[:, 0] + 1e-9)
    shifted = points + torch.stack([cam[:, 1], cam[:, 2], tz], dim=-1).unsqueeze(1)
    perspective = shifted[..., :2] / shifted[..., 2:3]
    return perspective * FOCAL_LENGTH / (CROP_SIZE / 2.0)


def part_camera(cam: torch.Tensor) -> torch.Tensor:
    """Hand/face cams are predicted in scaled units: [s, tx, ty] -> [10 s, tx / 10, ty / 10]."""
    return torch.cat([cam[:, 0:1] * 10.0, cam[:, 1:] / 10.0], dim=1)


def sampling_grid(size: int = GRID_SIZE) -> torch.Tensor:
    """The [1,2,size²] grid buffer: x varies slowly, y fast (ij meshgrid), both in [-1,1].

    The point order is part of the checkpoint: it fixes the layout of the flattened features.
    """
    axis = torch.linspace(-1.0, 1.0, size)
    xv, yv = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xv.reshape(-1), yv.reshape(-1)]).unsqueeze(0)
