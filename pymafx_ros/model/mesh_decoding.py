"""Turn one set of PyMAF-X parameters into the meshes and keypoints of a ``mesh_out`` dict.

Follows the release's decoding: 6D -> rotation matrices, SMPL-X for the body (with the mean
hand pose except at the last iteration, where the visibility-filtered predicted hands and the
integrated wrists enter), one MANO mesh per hand and a FLAME mesh for the face-expert loop, and
keypoints projected with the body camera. ``outputs`` other than "all" compute only what a
consumer of the final result reads (``PIPELINE_OUTPUTS``): no MANO/FLAME meshes, no SMPL
topology, and with "joints" not even the SMPL-X mesh.
"""

from __future__ import annotations

import torch

from pymafx_ros.body_models.layers import SmplxOutputs
from pymafx_ros.model.hand_integration import integrate_hands
from pymafx_ros.model.projection import project_points
from pymafx_ros.model.rotations import mirror_hand_rotmat, rot6d_to_rotmat, rotmat_to_axis_angle

# Row slices of the 165 projected points: body 49, lhand 21, rhand 21, face 68, feet 3 + 3.
KEYPOINT_SLICES = {
    "kp_2d": (0, 49),
    "pred_lhand_kp2d": (49, 70),
    "pred_rhand_kp2d": (70, 91),
    "pred_face_kp2d": (91, 159),
    "pred_feet_kp2d": (159, 165),
}

Tensors = dict[str, torch.Tensor]

# What the final result holds for outputs "joints" ("mesh" adds smplx_verts [B,10475,3]):
# cameras, shape, expression, every rotation given to SMPL-X, its 144 joints, hand visibility.
PIPELINE_OUTPUTS = (
    "pred_cam", "pred_shape", "pred_exp", "rotmat", "pred_face_rotmat", "pred_lhand_rotmat",
    "pred_rhand_rotmat", "smplx_joints", "hand_visibility",
)  # fmt: skip


def rotmats_from_6d(*parts6d: torch.Tensor) -> torch.Tensor:
    """Concatenate [B, 6k] 6D blocks and convert -> [B, J, 3, 3]."""
    return rot6d_to_rotmat(torch.cat(parts6d, dim=1).unflatten(1, (-1, 6)))


def smplx_pose(
    betas: torch.Tensor,
    body_rotmat: torch.Tensor,
    face_rotmat: torch.Tensor,
    left_hand: torch.Tensor,
    right_hand: torch.Tensor,
    expression: torch.Tensor,
) -> Tensors:
    """SMPL-X keyword arguments from rotation matrices: betas [B,10], body_rotmat [B,>=22,3,3]
    (root first), face_rotmat [B,3,3,3] (jaw, left eye, right eye), hands [B,15,3,3] (left
    mirrored), expression [B,50]."""
    return {
        "betas": betas,
        "global_orient": body_rotmat[:, :1],
        "body_pose": body_rotmat[:, 1:22],
        "jaw_pose": face_rotmat[:, 0:1],
        "leye_pose": face_rotmat[:, 1:2],
        "reye_pose": face_rotmat[:, 2:3],
        "left_hand_pose": left_hand,
        "right_hand_pose": right_hand,
        "expression": expression,
    }


def decode_parts(
    body_models: torch.nn.Module,
    params: Tensors,
    body_rotmat: torch.Tensor,
    smplx_hands: Tensors,
    smplx_expression: bool = False,
    outputs: SmplxOutputs = "all",
) -> Tensors:
    """Meshes and keypoints for ``params`` (names of regressor.STATE_NAMES plus ``exp``).

    body_rotmat [B,24,3,3] are the body rotations given to SMPL-X (joints 22, 23 unused);
    smplx_hands holds ``left``/``right`` finger rotations [B,15,3,3] (left already mirrored);
    ``smplx_expression`` makes SMPL-X apply the expression (see ``BodyModelFamily.smplx``).
    Returns the SMPL-X outputs of ``BodyModelFamily.smplx`` (for ``outputs``) plus, for
    "all", the MANO/FLAME meshes.
    """
    face_rotmat = rotmats_from_6d(params["face"])
    out = body_models.smplx(
        **smplx_pose(
            params["shape"],
            body_rotmat,
            face_rotmat,
            smplx_hands["left"],
            smplx_hands["right"],
            params["exp"],
        ),
        apply_expression=smplx_expression,
        outputs=outputs,
    )
    out["pred_face_rotmat"] = face_rotmat
    if outputs != "all":
        return out
    # Both hands through the right-hand MANO layer in one batch, rows [right; left]; the left
    # hand stays in its mirrored frame, as predicted.
    hand_rotmat = rotmats_from_6d(
        torch.cat([params["orient_rh"], params["orient_lh"]]),
        torch.cat([params["rhand"], params["lhand"]]),
    )
    hands = body_models.mano(
        global_orient=hand_rotmat[:, :1],
        hand_pose=hand_rotmat[:, 1:],
        betas=torch.cat([params["shape_rh"], params["shape_lh"]]),
    )
    out["verts_rh_mano"], out["verts_lh_mano"] = hands["vertices"].unflatten(0, (2, -1)).unbind(0)
    head_rotmat = rotmats_from_6d(params["orient_fa"], params["face"])
    face = body_models.flame(
        global_orient=head_rotmat[:, 0:1],
        jaw_pose=head_rotmat[:, 1:2],
        leye_pose=head_rotmat[:, 2:3],
        reye_pose=head_rotmat[:, 3:4],
        betas=params["shape_fa"],
        expression=params["exp"],
    )
    out["verts_fa_flame"] = face["vertices"]
    out["dynlmk_yaw_deg_flame"] = face["dynlmk_yaw_deg_flame"]
    return out


def finger_rotmats(lhand6d: torch.Tensor, rhand6d: torch.Tensor) -> Tensors:
    """Finger 6D [B,90] each -> ``left`` (mirrored into the body frame) / ``right`` [B,15,3,3]."""
    rotmat = rotmats_from_6d(lhand6d, rhand6d)
    return {"left": mirror_hand_rotmat(rotmat[:, :15]), "right": rotmat[:, 15:]}


def summarise(
    params: Tensors, decoded: Tensors, rotmat: torch.Tensor, fingers: Tensors
) -> Tensors:
    """The release's ``mesh_out`` names from parameters, decoded meshes and the body rotations
    (only ``PIPELINE_OUTPUTS`` when ``decoded`` is not the "all" set)."""
    cam = params["cam"]
    if "verts" not in decoded:
        out = {
            "pred_cam": cam,
            "pred_shape": params["shape"],
            "pred_exp": params["exp"],
            "rotmat": rotmat,
            "pred_face_rotmat": decoded["pred_face_rotmat"],
            "pred_lhand_rotmat": fingers["left"],
            "pred_rhand_rotmat": fingers["right"],
            "smplx_joints": decoded["smplx_joints"],
        }
        if "smplx_verts" in decoded:
            out["smplx_verts"] = decoded["smplx_verts"]
        return out
    projected = project_points(decoded["kp3d_for_2d"], cam)
    out = {
        "pred_cam": cam,
        "pred_shape": params["shape"],
        "pred_pose": params["pose"],
        "rotmat": rotmat,
        "theta": torch.cat([cam, params["shape"], rotmat_to_axis_angle(rotmat).flatten(1)], 1),
        "pred_lhand": params["lhand"],
        "pred_rhand": params["rhand"],
        "pred_lhand_rotmat": fingers["left"],
        "pred_rhand_rotmat": fingers["right"],
        "pred_face": params["face"],
        "pred_exp": params["exp"],
        "kp_3d": decoded["pred_joints"],
    }
    for side in ("lh", "rh", "fa"):
        for quantity in ("orient", "cam", "shape"):
            out[f"pred_{quantity}_{side}"] = params[f"{quantity}_{side}"]
    for name, (start, stop) in KEYPOINT_SLICES.items():
        out[name] = projected[:, start:stop]
    skip = {"kp3d_for_2d", "pred_lfoot_kp3d", "pred_rfoot_kp3d"}
    out.update({name: value for name, value in decoded.items() if name not in skip})
    return out


def decode(
    body_models: torch.nn.Module,
    params: Tensors,
    mean_hand: torch.Tensor,
    visibility: tuple[torch.Tensor, torch.Tensor] | None = None,
    outputs: SmplxOutputs = "all",
    smplx_expression: bool = False,
    probe: Tensors | None = None,
) -> Tensors:
    """Per-person parameters (``regressor.STATE_NAMES`` plus ``exp``, [B, D]) -> ``mesh_out``.

    Without ``visibility`` (iterations before the last, and the init mesh) SMPL-X gets the mean
    hand ``mean_hand`` [1, 90]; with (visible [B, 2] bool, scores [B, 2], columns left, right)
    the visible hands' wrists are integrated into the body and their fingers enter SMPL-X, and
    the scores are returned as ``hand_visibility``. ``smplx_expression``: SMPL-X applies the
    predicted expression (the release does not). ``probe`` receives integration internals.
    """
    body_rotmat = rot6d_to_rotmat(params["pose"].unflatten(1, (-1, 6)))
    mean = mean_hand.expand(params["pose"].shape[0], -1)
    if visibility is None:
        rotmat = body_rotmat
        fingers = finger_rotmats(params["lhand"], params["rhand"])
        smplx_hands = finger_rotmats(mean, mean)
    else:
        visible, _ = visibility
        visible_l, visible_r = visible[:, 0], visible[:, 1]
        tpose = body_models.tpose_joints(params["shape"])
        rotmat, internals = integrate_hands(
            body_rotmat, tpose, params["orient_lh"], params["orient_rh"], visible_l, visible_r
        )
        # An invisible hand falls back to the mean right hand (mirrored if left) in SMPL-X.
        fingers = finger_rotmats(
            torch.where(visible_l[:, None], params["lhand"], mean),
            torch.where(visible_r[:, None], params["rhand"], mean),
        )
        smplx_hands = fingers
        if probe is not None:
            probe["integr_tpose_joints"] = tpose.detach()
            probe.update({f"integr_{k}": v.detach() for k, v in internals.items()})
    decoded = decode_parts(body_models, params, rotmat, smplx_hands, smplx_expression, outputs)
    out = summarise(params, decoded, rotmat, fingers)
    if outputs == "all":
        out["rotmat_preintegr"] = body_rotmat
    if visibility is not None:
        out["hand_visibility"] = visibility[1]
    return out
