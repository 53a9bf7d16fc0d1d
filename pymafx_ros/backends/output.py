"""``BackendOutput``: what ``Backend.predict`` returns, the final ``mesh_out`` of the release
under its names, typed (B: people in the batch; tensors on the backend's device)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from torch import Tensor

# The outputs every profile holds (``mesh_decoding.PIPELINE_OUTPUTS``, with the release's
# ``pred_vis_hands`` in place of ``hand_visibility``), in field order.
PROFILE_OUTPUTS = (
    "pred_cam", "pred_shape", "pred_exp", "rotmat", "pred_face_rotmat", "pred_lhand_rotmat",
    "pred_rhand_rotmat", "smplx_joints", "pred_vis_hands",
)  # fmt: skip
VERTICES = "smplx_verts"


@dataclass(frozen=True)
class BackendOutput:
    """The final mesh of one call, like smplx's ``SMPLXOutput``: shapes per field below.

    Profile ``joints`` fills the required fields; ``mesh`` adds ``smplx_verts``; ``release``
    adds every other output of the release's final ``mesh_out`` in ``release_extras`` (SMPL
    vertices, 2D/3D keypoints, the experts' own cameras...), which the parity check compares.
    Rotations are the ones given to SMPL-X; joints and vertices are in the model frame, metres.
    """

    pred_cam: Tensor  # [B,3] body crop weak-perspective camera (s, tx, ty)
    pred_shape: Tensor  # [B,10] SMPL-X betas
    pred_exp: Tensor  # [B,50] SMPL-X expression
    rotmat: Tensor  # [B,24,3,3] body rotations, root first
    pred_face_rotmat: Tensor  # [B,3,3,3] jaw, left eye, right eye
    pred_lhand_rotmat: Tensor  # [B,15,3,3] left hand as given to SMPL-X
    pred_rhand_rotmat: Tensor  # [B,15,3,3] right hand
    smplx_joints: Tensor  # [B,144,3] 55 kinematic joints, then face / feet / vertex joints
    # [2B] the given detector scores as [left block; right block] when vis_lhand / vis_rhand
    # were passed, else [B,2] (left, right) as the visibility head predicted them.
    pred_vis_hands: Tensor
    smplx_verts: Tensor | None = None  # [B,10475,3] SMPL-X vertices (profiles mesh, release)
    # Profile release only: the release's other outputs by name (kp_3d [B,49,3], verts
    # [B,6890,3], pred_cam_lh [B,3]...); empty otherwise.
    release_extras: Mapping[str, Tensor] = field(default_factory=dict)

    @classmethod
    def from_mesh(cls, mesh: Mapping[str, Tensor]) -> BackendOutput:
        """From the release-named dict ``PyMAFX.predict`` and the head programs give."""
        missing = [name for name in PROFILE_OUTPUTS if name not in mesh]
        if missing:
            raise KeyError(f"model output lacks {missing}; got keys {sorted(mesh)}")
        named = {*PROFILE_OUTPUTS, VERTICES}
        extras = {name: value for name, value in mesh.items() if name not in named}
        values = {name: mesh[name] for name in PROFILE_OUTPUTS}
        return cls(**values, smplx_verts=mesh.get(VERTICES), release_extras=extras)

    def as_dict(self) -> dict[str, Tensor]:
        """Every output under the release's names (the parity check and ``host_arrays``)."""
        out = {name: getattr(self, name) for name in PROFILE_OUTPUTS}
        if self.smplx_verts is not None:
            out[VERTICES] = self.smplx_verts
        out.update(self.release_extras)
        return out
