"""Test doubles for the pipeline: a counting fake model with consistent SMPL-X outputs, people."""

from __future__ import annotations

import numpy as np
import smplx
import torch

from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.model.rotations import axis_angle_to_rotmat


class CountingFakeModel:
    """Stands in for a backend's ``predict``: records each call's batch sizes, answers with a
    ``BackendOutput``.

    Poses are small functions of each crop's mean colour, so different people differ; joints
    and vertices come from ``smplx.SMPLXLayer`` fed with the same rotations, as in the model.
    """

    def __init__(self, layer: smplx.SMPLXLayer, cam_scale: float = 0.9) -> None:
        self.layer = layer
        self.calls: list[dict[str, int]] = []
        self.cam_scale = cam_scale

    def __call__(self, img_body, img_lhand, img_rhand, img_face, vis_lhand=None, vis_rhand=None):
        self.calls.append(
            {
                "body": img_body.shape[0],
                "hand": img_lhand.shape[0] + img_rhand.shape[0],
                "face": img_face.shape[0],
            }
        )
        batch = img_body.shape[0]
        level = torch.stack([img.mean(dim=(1, 2, 3)) for img in (img_body, img_lhand, img_rhand)])

        def rotations(count: int, part: int) -> torch.Tensor:
            angles = torch.linspace(-0.3, 0.3, count * 3).reshape(1, count, 3)
            return axis_angle_to_rotmat(angles * (1 + level[part].reshape(batch, 1, 1)))

        body = rotations(24, 0)
        body[:, 0] = axis_angle_to_rotmat(torch.tensor([np.pi, 0.0, 0.0])).expand(batch, 3, 3)
        left, right = rotations(15, 1), rotations(15, 2)
        face = rotations(3, 0)
        betas = torch.zeros(batch, 10)
        expression = torch.zeros(batch, 50)
        out = self.layer(
            global_orient=body[:, :1],
            body_pose=body[:, 1:22],
            jaw_pose=face[:, :1],
            leye_pose=face[:, 1:2],
            reye_pose=face[:, 2:],
            left_hand_pose=left,
            right_hand_pose=right,
            betas=betas,
            expression=expression,
        )
        # The model's layout: given scores (2B,) [left; right], or its own head's (B, 2).
        vis = torch.cat([vis_lhand, vis_rhand]) if vis_lhand is not None else torch.ones(batch, 2)
        final = {
            "pred_cam": torch.tensor([[self.cam_scale, 0.0, 0.1]]).expand(batch, 3),
            "rotmat": body,
            "pred_face_rotmat": face,
            "pred_lhand_rotmat": left,
            "pred_rhand_rotmat": right,
            "pred_shape": betas,
            "pred_exp": expression,
            "smplx_verts": out.vertices,
            "smplx_joints": out.joints,
            "pred_vis_hands": vis,
        }
        return BackendOutput.from_mesh(final)


def person_at(cx: float, cy: float, height: float, score: float = 0.9, vis=(0.8, 0.8, 0.9)):
    """A detection with a body box around (cx, cy) and hand/face boxes placed like a person."""
    return PersonDetection(
        score=score,
        body=PartBox(cx, cy, 1.2 * height),
        left_hand=PartBox(cx + 0.25 * height, cy, 0.15 * height),
        right_hand=PartBox(cx - 0.25 * height, cy, 0.15 * height),
        face=PartBox(cx, cy - 0.4 * height, 0.2 * height),
        vis_lhand=vis[0],
        vis_rhand=vis[1],
        vis_face=vis[2],
    )
