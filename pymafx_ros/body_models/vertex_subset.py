"""Linear blend skinning of a smplx layer's mesh, or of a fixed subset of its vertices.

The feedback loop only samples a few hundred vertices of the intermediate meshes, and the
joints need a few hundred more, but a full smplx layer call reads every blend shape of every
vertex (SMPL-X's pose blend shapes alone are 61 MB). smplx has no vertex-subset evaluation and
its kinematic chain cannot be exported, so this module restates its ``lbs`` for chosen vertices
(or all) with the static ``KinematicChain``; the joints come from the regressor applied once to
the template and the shape directions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .kinematic_chain import KinematicChain


def shape_directions(layer: nn.Module) -> torch.Tensor:
    """[V, 3, S] every shape direction a smplx layer blends, in its order (betas, then the
    expression directions for SMPL-X and FLAME)."""
    dirs = layer.shapedirs
    expression = getattr(layer, "expr_dirs", None)
    return dirs if expression is None else torch.cat([dirs, expression], dim=-1)


def _blend(coefficients: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """[B, S] x [N, 3, S] -> [B, N, 3] as one matrix product (no einsum, for old exporters)."""
    flat = directions.reshape(-1, directions.shape[-1])  # [N*3, S]
    return (coefficients @ flat.transpose(0, 1)).unflatten(1, (-1, 3))


class SkinnedVertexSubset(nn.Module):
    """Linear blend skinning of ``indices`` of a smplx layer's mesh (all vertices when None):
    the layer's vertices at those indices (float rounding aside), at their cost only.

    ``forward(shape_components [B,S], full_pose [B,J,3,3])`` -> (vertices [B,N,3], posed joints
    [B,J,3]); the pose is in the layer's joint order, root first, as rotation matrices.
    """

    def __init__(self, layer: nn.Module, indices: np.ndarray | None = None) -> None:
        super().__init__()
        num_vertices = layer.v_template.shape[0]
        dirs = shape_directions(layer)
        if indices is None:
            # Every vertex: share the layer's tensors instead of copying them (61 MB for SMPL-X).
            self.register_buffer("v_template", layer.v_template)
            self.register_buffer("shapedirs", dirs)
            self.register_buffer("posedirs", layer.posedirs.contiguous())
            self.register_buffer("lbs_weights", layer.lbs_weights)
        else:
            idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
            if idx.dim() != 1 or idx.numel() == 0 or int(idx.min()) < 0:
                raise ValueError("indices must be a non-empty 1-D array of vertex numbers")
            if int(idx.max()) >= num_vertices:
                raise ValueError(f"vertex index {int(idx.max())} out of range ({num_vertices})")
            num_pose_features = layer.posedirs.shape[0]
            posedirs = layer.posedirs.view(num_pose_features, num_vertices, 3)[:, idx]
            self.register_buffer("v_template", layer.v_template[idx].clone())
            self.register_buffer("shapedirs", dirs[idx].clone())
            self.register_buffer("posedirs", posedirs.reshape(num_pose_features, -1).clone())
            self.register_buffer("lbs_weights", layer.lbs_weights[idx].clone())
        regressor = layer.J_regressor
        self.register_buffer("joint_template", regressor @ layer.v_template)
        self.register_buffer("joint_dirs", torch.einsum("jv,vkl->jkl", regressor, dirs))
        self.chain = KinematicChain(layer.parents.tolist())

    @property
    def num_shape_components(self) -> int:
        """S: how many coefficients ``forward`` expects (betas + expression)."""
        return self.shapedirs.shape[-1]

    @property
    def num_vertices(self) -> int:
        """N: how many vertices ``forward`` returns."""
        return self.v_template.shape[0]

    def forward(
        self, shape_components: torch.Tensor, full_pose: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        v_shaped = self.v_template + _blend(shape_components, self.shapedirs)
        joints = self.joint_template + _blend(shape_components, self.joint_dirs)
        identity = torch.eye(3, dtype=full_pose.dtype, device=full_pose.device)
        pose_feature = (full_pose[:, 1:] - identity).flatten(1)
        v_posed = v_shaped + (pose_feature @ self.posedirs).unflatten(1, (-1, 3))
        rotations, posed_joints, translations = self.chain(full_pose, joints)
        # Per-vertex transform = weighted sum of the joints' [R | t] (12 numbers per joint).
        transforms = torch.cat([rotations.flatten(2), translations], dim=2)  # [B, J, 12]
        per_vertex = self.lbs_weights @ transforms  # [B, N, 12]
        rotation = per_vertex[..., :9].unflatten(-1, (3, 3))
        vertices = (rotation @ v_posed.unsqueeze(-1)).squeeze(-1) + per_vertex[..., 9:]
        return vertices, posed_joints
