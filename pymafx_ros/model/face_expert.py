"""Leaving the face expert out: what it drives, and the state a face that is not run keeps.

The face expert (face encoder, face point sampling, the regressors' face branch) refines only
the face state: jaw and eye rotations (``face``), the expression (``exp``) and the FLAME-only
head orientation, shape and camera (``*_fa``). No face feature reaches the body or hand
regressors, and the release leaves ``OPT_HEAD`` off (the head orientation never enters the
body). The face state reaches the body in two places only: the jaw and eye rotations pose the
SMPL-X mesh whose points the body branch samples at iterations 1-2, and the expression moves
SMPL-X's rest joints (mostly the head's). A face that is not run keeps its initial state
(identity jaw and eyes, zero expression): the face the release's ``body_hand`` mode outputs.
"""

from __future__ import annotations

import torch
from torch import Tensor

# The person-state entries the face expert refines (``Regressor.forward``'s outputs).
FACE_STATE_NAMES = ("face", "exp", "orient_fa", "shape_fa", "cam_fa")


def face_flags(img_face: Tensor | None, reference: Tensor) -> Tensor | None:
    """``run_face`` [B] bool for ``PyMAFX.refine``: None when the face crops are given (every
    face runs, nothing is masked), all False when ``img_face`` is None."""
    if img_face is not None:
        return None
    return torch.zeros(reference.shape[0], dtype=torch.bool, device=reference.device)


def absent_face_maps(batch: int, part_maps: list[Tensor]) -> list[Tensor]:
    """Zero face maps [batch, C, S, S] shaped like another part expert's ``part_maps`` (the
    hand and face encoders are the same network). The face branch still reads them in the head;
    ``hold_face`` keeps what it computes from them out of every output."""
    return [level.new_zeros(batch, *level.shape[1:]) for level in part_maps]


def hold_face(state: dict[str, Tensor], initial: dict[str, Tensor], run_face: Tensor | None):
    """``state`` with the face entries of the people whose face is not run (``run_face`` [B]
    bool False) put back to ``initial`` ([B, D] or [1, D]); ``state`` itself when None."""
    if run_face is None:
        return state
    held = dict(state)
    for name in FACE_STATE_NAMES:
        held[name] = torch.where(run_face[:, None], state[name], initial[name])
    return held
