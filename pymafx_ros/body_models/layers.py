"""SMPL-X, MANO and FLAME forward passes exactly as PyMAF-X v1.1 uses them at inference.

All poses are rotation matrices (the official calls use ``pose2rot=False``), float32.

Left hand: the network predicts the left hand as a mirrored right hand. Before SMPL-X the
official code mirrors the finger rotations back, ``R_left = R * F`` elementwise with
``F = [[1,-1,-1],[-1,1,1],[-1,1,1]]`` (= M R M, M = diag(-1, 1, 1)); ``smplx`` here expects
``left_hand_pose`` already mirrored that way. ``mano`` is the right-hand model for both hands:
give it the left hand un-mirrored (as predicted).

This module is not part of the PyMAF-X checkpoint: keep it out of the network's state dict
(hold it as a plain attribute) and move it to the device separately.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

from . import joint_maps as jm
from .assets import PyMafxAssets
from .skinned_body import SkinnedBody
from .smplx_factory import (
    FLAME_NUM_BETAS,
    NUM_EXPRESSION_COEFFS,
    SMPLX_NUM_BETAS,
    build_flame_layer,
    build_mano_layer,
    build_smplx_layer,
)
from .vertex_map import SparseVertexMap

Tensors = dict[str, torch.Tensor]

# What ``BodyModelFamily.smplx`` computes: every output of the release ("all"), the SMPL-X mesh
# and joints ("mesh"), or the joints only ("joints", skinning just the vertices they read).
SmplxOutputs = Literal["all", "mesh", "joints"]


def _long(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.int64))


def _check(name: str, tensor: torch.Tensor, trailing: tuple[int, ...]) -> None:
    """Shape/dtype guard on the non-batch dimensions (static, so export-safe)."""
    if tensor.dim() != len(trailing) + 1 or tuple(tensor.shape[1:]) != trailing:
        want = ", ".join(str(d) for d in ("B", *trailing))
        raise ValueError(f"{name}: expected shape [{want}], got {list(tensor.shape)}")
    if tensor.dtype != torch.float32:
        raise ValueError(f"{name}: expected float32, got {tensor.dtype}")


class BodyModelFamily(nn.Module):
    """SMPL-X (+ SMPL-topology outputs and keypoints), MANO and FLAME of PyMAF-X v1.1."""

    def __init__(self, assets: PyMafxAssets) -> None:
        super().__init__()
        self.smplx_layer = build_smplx_layer(assets)
        self.mano_layer = build_mano_layer(assets)
        self.flame_layer = build_flame_layer(assets)
        # Export-friendly forward passes over the layers' buffers (static kinematic chain).
        self.smplx_mesh = SkinnedBody(self.smplx_layer, with_mesh=True)
        self.smplx_joints = SkinnedBody(self.smplx_layer, with_mesh=False)
        self.mano_mesh = SkinnedBody(self.mano_layer, with_mesh=True, vertex_joints=False)
        self.flame_mesh = SkinnedBody(self.flame_layer, with_mesh=True)
        self.to_smpl_topology = SparseVertexMap(assets.smplx_to_smpl)
        self.joint_names: tuple[str, ...] = jm.SMPLX_JOINT_NAMES
        self.faces: np.ndarray = np.asarray(assets.smplx.faces, dtype=np.int64)
        tables = {
            "J_regressor_extra": torch.from_numpy(assets.J_regressor_extra),
            "smpl_lhand_vids": torch.from_numpy(assets.smpl_lhand_vids),
            "smpl_rhand_vids": torch.from_numpy(assets.smpl_rhand_vids),
            "smpl45_from_smplx": _long(jm.SMPLX_TO_SMPL45),
            "spin_from_stack": _long(jm.SPIN_FROM_STACK),
            "lhand_from_smplx": _long(jm.LHAND_FROM_SMPLX),
            "rhand_from_smplx": _long(jm.RHAND_FROM_SMPLX),
            "lfoot_from_smplx": _long(jm.LFOOT_FROM_SMPLX),
            "rfoot_from_smplx": _long(jm.RFOOT_FROM_SMPLX),
            "mano_tip_vertices": _long(jm.MANO_TIP_VERTICES),
            "mano_to_hand_keypoints": _long(jm.MANO_TO_HAND_KEYPOINTS),
        }
        # T-pose joint template and shape directions of the 24 body joints, formed from the
        # layer's float32 buffers in the same way as the official get_tpose.
        body_regressor = self.smplx_layer.J_regressor[:24]
        tables["J_template"] = torch.einsum(
            "ji,ik->jk", body_regressor, self.smplx_layer.v_template
        )
        tables["J_dirs"] = torch.einsum("ji,ikl->jkl", body_regressor, self.smplx_layer.shapedirs)
        for name, value in tables.items():
            self.register_buffer(name, value, persistent=False)

    @property
    def parents(self) -> torch.Tensor:
        """[55] parent of each SMPL-X kinematic joint (-1 for the pelvis)."""
        return self.smplx_layer.parents

    @property
    def J_regressor(self) -> torch.Tensor:  # noqa: N802 - the name every SMPL code uses
        """[55, 10475] SMPL-X joint regressor (float32)."""
        return self.smplx_layer.J_regressor

    @property
    def v_template(self) -> torch.Tensor:
        """[10475, 3] SMPL-X template vertices."""
        return self.smplx_layer.v_template

    @property
    def shapedirs(self) -> torch.Tensor:
        """[10475, 3, 10] SMPL-X shape directions of the 10 betas."""
        return self.smplx_layer.shapedirs

    def tpose_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """betas [B, 10] -> [B, 24, 3] rest-pose body joints (the twist axes of integration)."""
        _check("betas", betas, (SMPLX_NUM_BETAS,))
        directions = self.J_dirs.reshape(-1, SMPLX_NUM_BETAS)  # [72, 10]: a plain matmul exports
        return self.J_template + (betas @ directions.transpose(0, 1)).unflatten(1, (-1, 3))

    def smplx(
        self,
        betas: torch.Tensor,
        global_orient: torch.Tensor,
        body_pose: torch.Tensor,
        jaw_pose: torch.Tensor,
        leye_pose: torch.Tensor,
        reye_pose: torch.Tensor,
        left_hand_pose: torch.Tensor,
        right_hand_pose: torch.Tensor,
        expression: torch.Tensor,
        apply_expression: bool = False,
        outputs: SmplxOutputs = "all",
    ) -> Tensors:
        """SMPL-X mesh and every keypoint set PyMAF-X derives from it.

        Shapes: betas [B,10]; global_orient, jaw/leye/reye_pose [B,1,3,3]; body_pose [B,21,3,3];
        left_hand_pose (mirrored, see module doc) / right_hand_pose [B,15,3,3]; expression [B,50]
        (ignored unless ``apply_expression``: v1.1's SMPL-X wrapper forwards only betas and
        poses, so its SMPL-X mesh keeps a neutral face and the expression shapes FLAME only).
        Always returns smplx_joints [B,144,3] and dynlmk_yaw_deg_smplx [B]; ``outputs`` "mesh"
        adds smplx_verts [B,10475,3]; "all" also verts [B,6890,3] (SMPL topology),
        verts_lh/verts_rh [B,778,3], pred_joints [B,49,3], smpl_kp_3d [B,24,3],
        pred_lhand_kp3d/pred_rhand_kp3d [B,21,3], pred_face_kp3d [B,68,3],
        pred_lfoot_kp3d/pred_rfoot_kp3d [B,3,3] and kp3d_for_2d [B,165,3] (the points projected
        to 2D: body 49, lhand 21, rhand 21, face 68, lfoot 3, rfoot 3). "joints" skins only the
        vertices the joints read.
        """
        for name, tensor, trailing in (
            ("betas", betas, (SMPLX_NUM_BETAS,)),
            ("global_orient", global_orient, (1, 3, 3)),
            ("body_pose", body_pose, (21, 3, 3)),
            ("jaw_pose", jaw_pose, (1, 3, 3)),
            ("leye_pose", leye_pose, (1, 3, 3)),
            ("reye_pose", reye_pose, (1, 3, 3)),
            ("left_hand_pose", left_hand_pose, (15, 3, 3)),
            ("right_hand_pose", right_hand_pose, (15, 3, 3)),
            ("expression", expression, (NUM_EXPRESSION_COEFFS,)),
        ):
            _check(name, tensor, trailing)
        if outputs not in ("all", "mesh", "joints"):
            raise ValueError(f"outputs must be 'all', 'mesh' or 'joints', got {outputs!r}")
        full_pose = torch.cat(
            [global_orient, body_pose, jaw_pose, leye_pose, reye_pose, left_hand_pose,
             right_hand_pose],
            dim=1,
        )  # fmt: skip
        if not apply_expression:
            expression = torch.zeros_like(expression)
        body = self.smplx_joints if outputs == "joints" else self.smplx_mesh
        output = body(torch.cat([betas, expression], dim=1), full_pose)
        smplx_joints = output["joints"]
        out = {"smplx_joints": smplx_joints, "dynlmk_yaw_deg_smplx": output["contour_yaw_deg"]}
        if outputs == "joints":
            return out
        smplx_verts = output["vertices"]
        out["smplx_verts"] = smplx_verts
        if outputs == "mesh":
            return out
        verts = self.to_smpl_topology(smplx_verts)
        extra = self.J_regressor_extra @ verts  # [B,9,3]
        stack = torch.cat([smplx_joints[:, self.smpl45_from_smplx], extra], dim=1)  # [B,54,3]
        pred_joints = stack[:, self.spin_from_stack]
        lhand = smplx_joints[:, self.lhand_from_smplx]
        rhand = smplx_joints[:, self.rhand_from_smplx]
        face = smplx_joints[:, -jm.NUM_FACE_LANDMARKS :]
        lfoot = smplx_joints[:, self.lfoot_from_smplx]
        rfoot = smplx_joints[:, self.rfoot_from_smplx]
        out.update(
            verts=verts,
            verts_lh=verts[:, self.smpl_lhand_vids],
            verts_rh=verts[:, self.smpl_rhand_vids],
            pred_joints=pred_joints,
            smpl_kp_3d=stack[:, :24],
            pred_lhand_kp3d=lhand,
            pred_rhand_kp3d=rhand,
            pred_face_kp3d=face,
            pred_lfoot_kp3d=lfoot,
            pred_rfoot_kp3d=rfoot,
            kp3d_for_2d=torch.cat([pred_joints, lhand, rhand, face, lfoot, rfoot], dim=1),
        )
        return out

    def mano(
        self, global_orient: torch.Tensor, hand_pose: torch.Tensor, betas: torch.Tensor
    ) -> Tensors:
        """Right-hand MANO: global_orient [B,1,3,3], hand_pose [B,15,3,3], betas [B,10] ->
        vertices [B,778,3], joints [B,21,3] (wrist, then thumb/index/middle/ring/pinky x
        3 joints + fingertip vertex)."""
        _check("global_orient", global_orient, (1, 3, 3))
        _check("hand_pose", hand_pose, (15, 3, 3))
        _check("betas", betas, (10,))
        output = self.mano_mesh(betas, torch.cat([global_orient, hand_pose], dim=1))
        vertices = output["vertices"]
        joints = torch.cat([output["joints"], vertices[:, self.mano_tip_vertices]], dim=1)
        return {"vertices": vertices, "joints": joints[:, self.mano_to_hand_keypoints]}

    def flame(
        self,
        global_orient: torch.Tensor,
        jaw_pose: torch.Tensor,
        leye_pose: torch.Tensor,
        reye_pose: torch.Tensor,
        betas: torch.Tensor,
        expression: torch.Tensor,
    ) -> Tensors:
        """FLAME head (neck at rest): rotations [B,1,3,3], betas [B,100], expression [B,50] ->
        vertices [B,5023,3], landmarks [B,68,3], dynlmk_yaw_deg_flame [B]."""
        for name, tensor in (
            ("global_orient", global_orient),
            ("jaw_pose", jaw_pose),
            ("leye_pose", leye_pose),
            ("reye_pose", reye_pose),
        ):
            _check(name, tensor, (1, 3, 3))
        _check("betas", betas, (FLAME_NUM_BETAS,))
        _check("expression", expression, (NUM_EXPRESSION_COEFFS,))
        neck = torch.eye(3, dtype=global_orient.dtype, device=global_orient.device)
        neck = neck.expand_as(global_orient)
        full_pose = torch.cat([global_orient, neck, jaw_pose, leye_pose, reye_pose], dim=1)
        output = self.flame_mesh(torch.cat([betas, expression], dim=1), full_pose)
        return {
            "vertices": output["vertices"],
            "landmarks": output["joints"][:, 5:],
            "dynlmk_yaw_deg_flame": output["contour_yaw_deg"],
        }
