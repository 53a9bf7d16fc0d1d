"""A smplx layer's forward pass (mesh, joints, vertex joints, face landmarks), exportable, with
the full mesh optional: the joints alone need only the few hundred vertices they read.

Same outputs as ``smplx.SMPLXLayer`` / ``FLAMELayer`` / ``MANOLayer`` with rotation-matrix
poses: ``joints`` = posed kinematic joints, then the vertex joints of the layer's
``vertex_joint_selector`` (SMPL-X: nose, eyes, ears, feet, fingertips), then the static and the
yaw-dependent contour face landmarks (barycentric points on mesh triangles). The contour bin is
chosen from the head yaw rounded to whole degrees, exactly as smplx does, with tensor ops only.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .vertex_subset import SkinnedVertexSubset

# smplx's contour look-up table: bins 0..39 for yaw 0..39 degrees, 40..78 for -1..-39 degrees.
CONTOUR_MAX_YAW_DEG = 39


def rotation_yaw_degrees(rotmat: Tensor) -> Tensor:
    """[B, 3, 3] -> [B] the negated y-Euler angle in degrees, as smplx's ``rot_mat_to_euler``."""
    sy = torch.sqrt(rotmat[:, 0, 0] * rotmat[:, 0, 0] + rotmat[:, 1, 0] * rotmat[:, 1, 0])
    return -torch.atan2(-rotmat[:, 2, 0], sy) * 180.0 / np.pi


def contour_yaw_degrees(full_pose: Tensor, neck_chain: Tensor) -> Tensor:
    """[B, J, 3, 3] local rotations -> [B] head yaw (degrees) that smplx rounds to choose the
    17 contour landmarks (``find_dynamic_lmk_idx_and_bcoords`` before clamp and rounding)."""
    rotations = torch.index_select(full_pose, 1, neck_chain)
    chained = rotations[:, 0]
    # Same product order as smplx (each link multiplies from the left), for equal rounding.
    for link in range(1, neck_chain.shape[0]):
        chained = rotations[:, link] @ chained
    return rotation_yaw_degrees(chained)


def contour_bin(yaw_deg: Tensor) -> Tensor:
    """[B] yaw in degrees -> [B] int64 row of smplx's contour table (its exact rule)."""
    rounded = torch.round(torch.clamp(yaw_deg, max=float(CONTOUR_MAX_YAW_DEG))).long()
    negative = torch.where(
        rounded < -CONTOUR_MAX_YAW_DEG,
        torch.full_like(rounded, 2 * CONTOUR_MAX_YAW_DEG),
        CONTOUR_MAX_YAW_DEG - rounded,
    )
    return torch.where(rounded < 0, negative, rounded)


class SkinnedBody(nn.Module):
    """A smplx layer's vertices (optional) and joints from shape components and a full pose.

    ``forward(shape_components [B,S], full_pose [B,J,3,3])`` -> dict with ``joints`` [B,K,3],
    ``contour_yaw_deg`` [B] (layers with a contour) and, when ``with_mesh``, ``vertices``
    [B,V,3]. ``vertex_joints``: apply the layer's vertex joint selector (MANO's forward does
    not). Without the mesh only the vertices the joints read are skinned.
    """

    def __init__(self, layer: nn.Module, with_mesh: bool, vertex_joints: bool = True) -> None:
        super().__init__()
        self.with_mesh = with_mesh
        selector = getattr(layer, "vertex_joint_selector", None)
        extra = None
        if vertex_joints and selector is not None:
            extra = selector.extra_joints_idxs.long()
        self.has_landmarks = hasattr(layer, "lmk_faces_idx")
        self.has_contour = self.has_landmarks and hasattr(layer, "dynamic_lmk_faces_idx")
        needed = [] if extra is None else [extra]
        if self.has_landmarks:
            faces = layer.faces_tensor.long()
            static_vertices = faces[layer.lmk_faces_idx.long()]  # [L, 3]
            needed.append(static_vertices.flatten())
            self.register_buffer("static_bary", layer.lmk_bary_coords.clone(), persistent=False)
        if self.has_contour:
            contour_vertices = faces[layer.dynamic_lmk_faces_idx.long()]  # [bins, L', 3]
            needed.append(contour_vertices.flatten())
            self.register_buffer(
                "contour_bary", layer.dynamic_lmk_bary_coords.clone(), persistent=False
            )
            self.register_buffer("neck_chain", layer.neck_kin_chain.clone(), persistent=False)
        if with_mesh or not needed:
            used = None
            position = torch.arange(layer.v_template.shape[0])
        else:
            used_np = np.unique(torch.cat(needed).numpy())
            used = used_np
            position = torch.full((layer.v_template.shape[0],), -1, dtype=torch.long)
            position[torch.from_numpy(used_np)] = torch.arange(len(used_np))
        self.skin = SkinnedVertexSubset(layer, used)
        # Every index below points into the skinned vertices (the subset, or all of them).
        self.has_extra = extra is not None and extra.numel() > 0
        if self.has_extra:
            self.register_buffer("extra_index", position[extra], persistent=False)
        if self.has_landmarks:
            self.register_buffer("static_index", position[static_vertices], persistent=False)
        if self.has_contour:
            self.register_buffer("contour_index", position[contour_vertices], persistent=False)
            bins = torch.arange(contour_vertices.shape[0])
            self.register_buffer("contour_bins", bins, persistent=False)

    @staticmethod
    def _landmarks(vertices: Tensor, index: Tensor, bary: Tensor) -> Tensor:
        """vertices [B,N,3], index [L,3], bary [L,3] -> [B,L,3] barycentric points."""
        # index_select with a constant index, not gather with a batch-expanded one:
        # Torch-TensorRT converts index_select for a dynamic batch, gather falls back to
        # PyTorch (a graph break). The same values are read, so the result is bit-identical.
        corners = vertices.index_select(1, index.flatten()).unflatten(1, index.shape)
        return (corners * bary.unsqueeze(-1)).sum(dim=2)  # [B, L, 3 corners, 3] -> [B, L, 3]

    def _contour_landmarks(self, vertices: Tensor, row: Tensor) -> Tensor:
        """vertices [B,N,3], row [B] contour bin -> [B,L',3] that bin's landmarks."""
        bins, count = self.contour_index.shape[:2]
        # Every bin's landmarks (79 x 17 points, a few thousand multiply-adds) with constant
        # indices, then the row picked by a one-hot mask: a per-sample gather would break the
        # TensorRT graph. Only the picked bin is kept, exactly (x + 0 = x).
        every_bin = self._landmarks(
            vertices, self.contour_index.flatten(0, 1), self.contour_bary.flatten(0, 1)
        ).unflatten(1, (bins, count))  # [B, bins, L', 3]
        picked = (row.unsqueeze(1) == self.contour_bins).unsqueeze(-1).unsqueeze(-1)
        return torch.where(picked, every_bin, torch.zeros_like(every_bin)).sum(dim=1)

    def forward(self, shape_components: Tensor, full_pose: Tensor) -> dict[str, Tensor]:
        vertices, joints = self.skin(shape_components, full_pose)
        parts = [joints]
        if self.has_extra:
            parts.append(vertices.index_select(1, self.extra_index))
        out: dict[str, Tensor] = {}
        if self.has_landmarks:
            parts.append(self._landmarks(vertices, self.static_index, self.static_bary))
        if self.has_contour:
            yaw = contour_yaw_degrees(full_pose, self.neck_chain)
            row = contour_bin(yaw)
            parts.append(self._contour_landmarks(vertices, row))
            out["contour_yaw_deg"] = yaw
        out["joints"] = torch.cat(parts, dim=1)
        if self.with_mesh:
            out["vertices"] = vertices
        return out
