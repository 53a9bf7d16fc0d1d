"""The points the feedback loop samples, computed from regressed parameters at the cost of the
sampled vertices only.

Before the last iteration the loop reads nothing of a decoded mesh but its down-sampled, projected
vertices (431 body, 195 per hand, 708 face points). ``LoopPoints`` skins just the SMPL-X, MANO
and FLAME vertices those points depend on and applies the same sparse maps the full decode +
``mesh_points`` path applies, so ``predict`` skips three full-mesh evaluations per iteration.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from pymafx_ros.body_models.layers import BodyModelFamily
from pymafx_ros.body_models.vertex_map import SparseVertexMap
from pymafx_ros.body_models.vertex_subset import SkinnedVertexSubset
from pymafx_ros.model.mesh_decoding import finger_rotmats, rotmats_from_6d
from pymafx_ros.model.projection import part_camera, project_points

Tensors = dict[str, torch.Tensor]


def _used_columns(matrix: sp.csr_matrix) -> np.ndarray:
    """Sorted indices of the columns holding at least one stored entry."""
    return np.unique(matrix.indices)


def _restricted_map(matrix: sp.csr_matrix, columns: np.ndarray) -> SparseVertexMap:
    """The map restricted to ``columns`` (which hold all its entries): reads subset vertices.
    Columns stay in order, so every row sums its terms in the original order."""
    return SparseVertexMap(sp.csr_matrix(matrix[:, columns]))


class LoopPoints(nn.Module):
    """Parameters of a non-final iteration -> the projected points the next iteration samples,
    equal to the release's decode + down-sampling + projection up to float rounding:
    ``people(params, mean_hand)`` -> ``body`` [B,431,2], ``face`` [B,708,2];
    ``hands(hand_params)`` -> [H,195,2] for the hand rows (see ``hand_rows``)."""

    def __init__(
        self,
        body_models: BodyModelFamily,
        smplx_to_smpl: sp.csr_matrix,
        smpl_down: torch.Tensor,
        mano_down: torch.Tensor,
        flame_indices: torch.Tensor,
    ) -> None:
        super().__init__()
        down = sp.csr_matrix(smpl_down.detach().cpu().numpy())
        down.eliminate_zeros()
        smpl_used = _used_columns(down)
        to_smpl = sp.csr_matrix(smplx_to_smpl, dtype=np.float32)[smpl_used]
        to_smpl.sort_indices()
        smplx_used = _used_columns(to_smpl)
        self.smplx = SkinnedVertexSubset(body_models.smplx_layer, smplx_used)
        self.to_smpl = _restricted_map(to_smpl, smplx_used)
        self.body_down = _restricted_map(down, smpl_used)

        hand_down = sp.csr_matrix(mano_down.detach().cpu().numpy())
        hand_down.eliminate_zeros()
        mano_used = _used_columns(hand_down)
        self.mano = SkinnedVertexSubset(body_models.mano_layer, mano_used)
        self.hand_down = _restricted_map(hand_down, mano_used)

        flame_used, flame_pick = np.unique(flame_indices.cpu().numpy(), return_inverse=True)
        self.flame = SkinnedVertexSubset(body_models.flame_layer, flame_used)
        self.register_buffer("flame_pick", torch.from_numpy(flame_pick.astype(np.int64)))

    def people(self, params: Tensors, mean_hand: torch.Tensor) -> Tensors:
        """params: regressor output (``PERSON_STATE_NAMES`` plus ``exp``, [B, D]); mean_hand
        [1, 90]: the finger pose SMPL-X gets before the last iteration."""
        batch = params["pose"].shape[0]
        mean = mean_hand.expand(batch, -1)
        fingers = finger_rotmats(mean, mean)
        smplx_pose = torch.cat(
            [
                rotmats_from_6d(params["pose"])[:, :22],
                rotmats_from_6d(params["face"]),
                fingers["left"],
                fingers["right"],
            ],
            dim=1,
        )
        # Before the last iteration SMPL-X never gets the expression (the release drops it).
        neutral = torch.zeros_like(params["exp"])
        smplx_verts, _ = self.smplx(torch.cat([params["shape"], neutral], dim=1), smplx_pose)
        body = self.body_down(self.to_smpl(smplx_verts))

        head = rotmats_from_6d(params["orient_fa"], params["face"])
        neck = torch.eye(3, dtype=head.dtype, device=head.device).expand(batch, 1, 3, 3)
        head_pose = torch.cat([head[:, :1], neck, head[:, 1:]], dim=1)
        face_shape = torch.cat([params["shape_fa"], params["exp"]], dim=1)
        face = self.flame(face_shape, head_pose)[0][:, self.flame_pick]
        return {
            "body": project_points(body, params["cam"]),
            "face": project_points(face, part_camera(params["cam_fa"])),
        }

    def hands(self, hand_params: Tensors) -> torch.Tensor:
        """hand_params: hand-row state (``HAND_STATE_NAMES``, [H, D]) -> points [H, 195, 2]
        (each hand in its own crop, left hands in their mirrored frame)."""
        pose = rotmats_from_6d(hand_params["orient"], hand_params["hand"])
        verts, _ = self.mano(hand_params["shape"], pose)
        return project_points(self.hand_down(verts), part_camera(hand_params["cam"]))
