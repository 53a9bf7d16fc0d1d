"""Hand-to-body integration of PyMAF-X with adaptive elbow-twist compensation (README section 5).

At the last iteration the hand experts' global wrist orientations replace the body's wrist
rotations; twist beyond +-0.4 pi about the forearm is moved from the wrist into the elbow so that
the forearm mesh does not candy-wrap. Hands judged invisible keep the body's elbow and wrist.
Everything is tensor selects, so the function exports with a free batch size.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pymafx_ros.model.rotations import (
    axis_angle_to_rotmat,
    forward_kinematics_rotations,
    mirror_hand_rotmat,
    rot6d_to_rotmat,
)
from pymafx_ros.model.twist import RELEASE_TWIST_LIMIT, compensation_angle, twist_angle

# Kinematic tree of the 24 SMPL body joints (also the first 22 of SMPL-X).
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
ELBOWS = (18, 19)  # left, right
WRISTS = (20, 21)  # left, right

# Release threshold (HAND_VIS_TH) on detector scores or on the raw visibility head output:
# a hand is visible when its score is strictly above it.
HAND_VISIBILITY_THRESHOLD = 0.1


def _check_inputs(
    body_rotmat: Tensor,
    tpose_joints: Tensor,
    orient_lh6d: Tensor,
    orient_rh6d: Tensor,
    visible_lh: Tensor,
    visible_rh: Tensor,
) -> None:
    batch = body_rotmat.shape[0] if body_rotmat.dim() == 4 else -1
    expected = {
        "body_rotmat": (body_rotmat, (batch, 24, 3, 3)),
        "tpose_joints": (tpose_joints, (batch, 24, 3)),
        "orient_lh6d": (orient_lh6d, (batch, 6)),
        "orient_rh6d": (orient_rh6d, (batch, 6)),
        "visible_lh": (visible_lh, (batch,)),
        "visible_rh": (visible_rh, (batch,)),
    }
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(
                f"integrate_hands: {name} has shape {tuple(tensor.shape)}, expected "
                f"{shape} (B = batch size taken from body_rotmat [B, 24, 3, 3])"
            )
    for name in ("visible_lh", "visible_rh"):
        if expected[name][0].dtype != torch.bool:
            raise TypeError(
                f"integrate_hands: {name} must be a bool tensor; threshold the scores with "
                "hand_visibility_from_scores / hand_visibility_from_prediction"
            )


def integrate_hands(
    body_rotmat: Tensor,
    tpose_joints: Tensor,
    orient_lh6d: Tensor,
    orient_rh6d: Tensor,
    visible_lh: Tensor,
    visible_rh: Tensor,
    twist_limit: float = RELEASE_TWIST_LIMIT,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Put the hand experts' wrist orientations into the body pose -> (rotmat, internals).

    body_rotmat: local SMPL body rotations [B, 24, 3, 3]; tpose_joints: SMPL-X T-pose joints
    [B, 24, 3] of the predicted betas (they define the forearm twist axes); orient_lh6d /
    orient_rh6d: hand global orientations [B, 6] (left in the mirrored frame); visible_lh /
    visible_rh: bool [B]. Returns rotmat [B, 24, 3, 3], in which only the elbows (18, 19) and
    wrists (20, 21) differ from body_rotmat. `internals` holds the fixture's `*_feat_integr_*`
    quantities (`body_global_rotmat`, `{l,r}_wrist_local_in`, `{l,r}_twist_axis`,
    `{l,r}_twist_angle_raw`) plus `{l,r}_twist_compensation` [B, 1].
    """
    _check_inputs(body_rotmat, tpose_joints, orient_lh6d, orient_rh6d, visible_lh, visible_rh)
    global_rotmat = forward_kinematics_rotations(body_rotmat, SMPL_PARENTS)
    # Slices, not index lists: a list index is a host-to-device copy on a GPU.
    elbows, wrists = _span(ELBOWS), _span(WRISTS)

    # Left and right are processed side by side along dim 1: [B, 2, ...].
    target = torch.stack(
        (mirror_hand_rotmat(rot6d_to_rotmat(orient_lh6d)), rot6d_to_rotmat(orient_rh6d)), dim=1
    )
    wrist_in = global_rotmat[:, elbows].transpose(-1, -2) @ target
    forearm = tpose_joints[:, wrists] - tpose_joints[:, elbows]
    axis = forearm / torch.linalg.vector_norm(forearm, dim=-1, keepdim=True).clamp_min(1e-12)

    angle = twist_angle(wrist_in, axis)
    excess = compensation_angle(angle, twist_limit)
    # E turns about the forearm: moving it from the wrist to the elbow keeps the hand's global
    # orientation and the wrist position, and only re-distributes the forearm twist.
    elbow_twist = axis_angle_to_rotmat(axis * excess)
    wrist_out = elbow_twist.transpose(-1, -2) @ wrist_in
    elbow_out = body_rotmat[:, elbows] @ elbow_twist

    visible = torch.stack((visible_lh, visible_rh), dim=1)[..., None, None]
    elbow_out = torch.where(visible, elbow_out, body_rotmat[:, elbows])
    wrist_out = torch.where(visible, wrist_out, body_rotmat[:, wrists])
    rotmat = torch.cat((body_rotmat[:, :18], elbow_out, wrist_out, body_rotmat[:, 22:]), dim=1)

    internals = {"body_global_rotmat": global_rotmat}
    for side, prefix in enumerate(("l", "r")):
        internals[f"{prefix}_wrist_local_in"] = wrist_in[:, side]
        internals[f"{prefix}_twist_axis"] = axis[:, side]
        internals[f"{prefix}_twist_angle_raw"] = angle[:, side]
        internals[f"{prefix}_twist_compensation"] = excess[:, side]
    return rotmat, internals


def _span(indices: tuple[int, int]) -> slice:
    """(left, right) joint indices, which are consecutive in SMPL's order, as a slice."""
    if indices[1] != indices[0] + 1:
        raise ValueError(f"expected consecutive joint indices, got {indices}")
    return slice(indices[0], indices[1] + 1)
