"""Rigid transforms along a fixed kinematic tree, resolved level by level.

smplx's ``batch_rigid_transform`` walks the tree one joint at a time, indexes a Python list with
a tensor and builds 4x4 matrices with ``F.pad``: it cannot be exported (torch.export, ONNX,
TensorRT) and runs 55 small matrix products per SMPL-X call. Here the parents are constants:
joints are grouped by depth, every joint of a level is chained to its parent in one batched
product, and rotations and translations stay separate 3x3 / 3-vectors (no padding).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def joint_levels(parents: Sequence[int]) -> list[list[int]]:
    """Joints grouped by depth in the tree (level 0 = the root), each level in joint order.

    Raises ValueError unless joint 0 is the only root and every parent precedes its child.
    """
    parents = [int(p) for p in parents]
    if not parents or parents[0] != -1:
        raise ValueError("kinematic chain: joint 0 must be the root (parent -1)")
    depth = [0]
    for joint, parent in enumerate(parents[1:], start=1):
        if not 0 <= parent < joint:
            raise ValueError(
                f"kinematic chain: parent {parent} of joint {joint} must come before it "
                "(order joints so that parents precede children; one root only)"
            )
        depth.append(depth[parent] + 1)
    levels: list[list[int]] = [[] for _ in range(max(depth) + 1)]
    for joint, level in enumerate(depth):
        levels[level].append(joint)
    return levels


class KinematicChain(nn.Module):
    """Global joint transforms of a posed skeleton with constant ``parents`` [J].

    ``forward(rotmats [B,J,3,3], rest_joints [B,J,3])`` returns ``(rotations [B,J,3,3],
    posed_joints [B,J,3], skin_translations [B,J,3])``: the global rotation of every joint, its
    posed position, and the translation of the skinning transform (posed position minus the
    rotated rest position), i.e. smplx's ``batch_rigid_transform`` outputs without the 4x4 form.
    """

    def __init__(self, parents: Sequence[int]) -> None:
        super().__init__()
        parents = [int(p) for p in parents]
        levels = joint_levels(parents)
        self.num_joints = len(parents)
        order = [joint for level in levels for joint in level]
        self.level_sizes = [len(level) for level in levels]
        # Parent of each joint of level k > 0, as a position inside level k - 1.
        position_in_level = {j: i for level in levels for i, j in enumerate(level)}
        parent_slots = [
            torch.tensor([position_in_level[parents[j]] for j in level], dtype=torch.long)
            for level in levels[1:]
        ]
        for k, slots in enumerate(parent_slots, start=1):
            self.register_buffer(f"parent_slot_{k}", slots, persistent=False)
        inverse = [0] * self.num_joints
        for position, joint in enumerate(order):
            inverse[joint] = position
        self.register_buffer("order", torch.tensor(order, dtype=torch.long), persistent=False)
        self.register_buffer("inverse", torch.tensor(inverse, dtype=torch.long), persistent=False)
        parent_or_self = [max(p, 0) for p in parents]
        self.register_buffer(
            "parent_or_self", torch.tensor(parent_or_self, dtype=torch.long), persistent=False
        )
        root_mask = torch.zeros(self.num_joints, 1)
        root_mask[0] = 1.0
        self.register_buffer("root_mask", root_mask, persistent=False)

    def forward(self, rotmats: Tensor, rest_joints: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if rotmats.shape[-3:] != (self.num_joints, 3, 3) or rest_joints.shape[-2:] != (
            self.num_joints,
            3,
        ):
            raise ValueError(
                f"kinematic chain of {self.num_joints} joints: expected rotmats "
                f"[B,{self.num_joints},3,3] and rest_joints [B,{self.num_joints},3], got "
                f"{tuple(rotmats.shape)} and {tuple(rest_joints.shape)}"
            )
        # Bone vectors (the root keeps its absolute position): a select, not a masked write.
        parent_joints = rest_joints.index_select(1, self.parent_or_self)
        bones = rest_joints - parent_joints * (1.0 - self.root_mask)
        local_r = rotmats.index_select(1, self.order)
        local_t = bones.index_select(1, self.order)
        sizes = self.level_sizes
        starts = [sum(sizes[:k]) for k in range(len(sizes))]
        rot_levels = [local_r[:, : sizes[0]]]
        pos_levels = [local_t[:, : sizes[0]]]
        for k in range(1, len(sizes)):
            slots = getattr(self, f"parent_slot_{k}")
            parent_r = rot_levels[-1].index_select(1, slots)
            parent_t = pos_levels[-1].index_select(1, slots)
            r = local_r[:, starts[k] : starts[k] + sizes[k]]
            t = local_t[:, starts[k] : starts[k] + sizes[k]]
            rot_levels.append(parent_r @ r)
            pos_levels.append((parent_r @ t.unsqueeze(-1)).squeeze(-1) + parent_t)
        rotations = torch.cat(rot_levels, dim=1).index_select(1, self.inverse)
        posed = torch.cat(pos_levels, dim=1).index_select(1, self.inverse)
        skin_t = posed - (rotations @ rest_joints.unsqueeze(-1)).squeeze(-1)
        return rotations, posed, skin_t
