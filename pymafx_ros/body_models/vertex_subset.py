"""Skinning of a fixed subset of a body model's vertices.

The feedback loop only samples a few hundred vertices of the intermediate meshes, but a full
smplx layer call reads every blend shape of every vertex (SMPL-X's pose blend shapes alone are
61 MB). smplx has no vertex-subset evaluation, so this module restates its ``lbs`` for chosen
vertices, reusing smplx's shape blending and kinematic chain; the joints come from the
regressor applied once to the template and the shape directions.
"""

from __future__ import annotations

import numpy as np
import torch
from smplx.lbs import batch_rigid_transform, blend_shapes
from torch import nn


def shape_directions(layer: nn.Module) -> torch.Tensor:
    """[V, 3, S] every shape direction a smplx layer blends, in its order (betas, then the
    expression directions for SMPL-X and FLAME)."""
    dirs = layer.shapedirs
    expression = getattr(layer, "expr_dirs", None)
    return dirs if expression is None else torch.cat([dirs, expression], dim=-1)


class SkinnedVertexSubset(nn.Module):
    """Linear blend skinning of ``indices`` of a smplx layer's mesh: the layer's vertices at
    those indices (float rounding aside), at the cost of those vertices only."""

    def __init__(self, layer: nn.Module, indices: np.ndarray) -> None:
        super().__init__()
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        num_vertices = layer.v_template.shape[0]
        if idx.dim() != 1 or idx.numel() == 0 or int(idx.min()) < 0:
            raise ValueError("indices must be a non-empty 1-D array of vertex numbers")
        if int(idx.max()) >= num_vertices:
            raise ValueError(f"vertex index {int(idx.max())} out of range ({num_vertices})")
        dirs = shape_directions(layer)
        regressor = layer.J_regressor
        num_pose_features = layer.posedirs.shape[0]
        posedirs = layer.posedirs.view(num_pose_features, num_vertices, 3)[:, idx]
        self.register_buffer("v_template", layer.v_template[idx].clone())
        self.register_buffer("shapedirs", dirs[idx].clone())
        self.register_buffer("posedirs", posedirs.reshape(num_pose_features, -1).clone())
        self.register_buffer("lbs_weights", layer.lbs_weights[idx].clone())
        self.register_buffer("joint_template", regressor @ layer.v_template)
        self.register_buffer("joint_dirs", torch.einsum("jv,vkl->jkl", regressor, dirs))
        self.register_buffer("parents", layer.parents.clone())

    @property
    def num_shape_components(self) -> int:
        """S: how many coefficients ``forward`` expects (betas + expression)."""
        return self.shapedirs.shape[-1]

    def forward(self, shape_components: torch.Tensor, full_pose: torch.Tensor) -> torch.Tensor:
        """shape_components [B, S]; full_pose [B, J, 3, 3] in the layer's joint order
        (root first) -> vertices [B, N, 3] of the subset."""
        batch = full_pose.shape[0]
        v_shaped = self.v_template + blend_shapes(shape_components, self.shapedirs)
        joints = self.joint_template + blend_shapes(shape_components, self.joint_dirs)
        identity = torch.eye(3, dtype=full_pose.dtype, device=full_pose.device)
        pose_feature = (full_pose[:, 1:] - identity).reshape(batch, -1)
        v_posed = v_shaped + (pose_feature @ self.posedirs).view(batch, -1, 3)
        _, transforms = batch_rigid_transform(full_pose, joints, self.parents)
        num_joints = transforms.shape[1]
        per_vertex = (self.lbs_weights @ transforms.view(batch, num_joints, 16)).view(
            batch, -1, 4, 4
        )
        rotated = (per_vertex[..., :3, :3] @ v_posed.unsqueeze(-1)).squeeze(-1)
        return rotated + per_vertex[..., :3, 3]
