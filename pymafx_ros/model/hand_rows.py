"""Hand rows: the hand crops that go through the hand expert, and where each person's hands are.

The hand expert (encoder, feature sampling, the regressors' hand branch, MANO) never mixes hands
with each other or with the body, so it runs on any set of hand crops: the *hand rows*. A
person's left / right hand is found through ``hand_rows`` [B, 2] (columns left, right): the row
of its crop, or H (the number of rows) when that hand was not run; such a hand keeps its initial
state, which is what an invisible hand falls back to anyway. Right crops are used as they are,
left crops mirrored (the expert is a right-hand model), as in the release.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pymafx_ros.model.hand_integration import HAND_VISIBILITY_THRESHOLD

LEFT, RIGHT = 0, 1  # columns of hand_rows and of [B, 2] visibility tensors


@dataclass(frozen=True)
class HandRows:
    """images [H, 3, h, w] (right crops, then mirrored left crops); rows [B, 2] int64."""

    images: Tensor
    rows: Tensor


def select_hands(img_lhand: Tensor, img_rhand: Tensor, run: Tensor) -> HandRows:
    """The hand rows for crops img_lhand / img_rhand [B, 3, h, w] and run [B, 2] bool (left,
    right): the right hands to run (person order), then the mirrored left ones.

    The selection is computed where ``run`` lives: pass it on the CPU (the detector's
    visibilities are host values) and a GPU never waits here; a mask on the GPU costs one
    synchronisation (its count decides the batch size).
    """
    if run.dtype != torch.bool or run.shape != (img_lhand.shape[0], 2):
        raise ValueError(
            f"select_hands: run must be a bool tensor [B, 2] (left, right), got {run.dtype} "
            f"{tuple(run.shape)} for B = {img_lhand.shape[0]}"
        )
    right = torch.nonzero(run[:, RIGHT]).flatten()
    left = torch.nonzero(run[:, LEFT]).flatten()
    device = img_lhand.device
    # non_blocking: a blocking host-to-device copy would synchronise the stream.
    images = torch.cat(
        [
            img_rhand.index_select(0, right.to(device, non_blocking=True)),
            torch.flip(img_lhand.index_select(0, left.to(device, non_blocking=True)), [3]),
        ]
    )
    total = right.numel() + left.numel()
    rows = torch.full(run.shape, total, dtype=torch.long, device=run.device)
    rows[right, RIGHT] = torch.arange(right.numel(), device=run.device)
    rows[left, LEFT] = torch.arange(left.numel(), device=run.device) + right.numel()
    return HandRows(images, rows.to(device, non_blocking=True))


def all_hands_rows(batch: int, device: torch.device | str = "cpu") -> Tensor:
    """hand_rows [B, 2] of the release's hand batch [right (B); mirrored left (B)]."""
    people = torch.arange(batch, device=device)
    return torch.stack([people + batch, people], dim=1)


def per_person(values: Tensor, fill: Tensor, hand_rows: Tensor) -> tuple[Tensor, Tensor]:
    """Hand-row values [H, ...] -> (left [B, ...], right [B, ...]); a hand that was not run
    gets ``fill`` (broadcastable to one row [1, ...])."""
    padded = torch.cat([values, fill.expand(1, *values.shape[1:])])
    picked = padded.index_select(0, hand_rows.flatten()).unflatten(0, hand_rows.shape)
    return picked[:, LEFT], picked[:, RIGHT]


def visibility_inputs(
    vis_lhand: Tensor | None, vis_rhand: Tensor | None, reference: Tensor
) -> tuple[Tensor, Tensor]:
    """The release's optional vis_lhand / vis_rhand [B] -> (vis_hands [B,2], predict flag),
    both on ``reference``'s device."""
    if (vis_lhand is None) != (vis_rhand is None):
        raise ValueError(
            "give both vis_lhand and vis_rhand ([B] hand detector confidences) or neither "
            "(then the network predicts hand visibility)"
        )
    batch = reference.shape[0]
    device = reference.device
    # Flags made on the device, not torch.tensor(True, device=...): that is a blocking copy.
    if vis_lhand is None:
        zeros = torch.zeros(batch, 2, device=device)
        return zeros, torch.ones((), dtype=torch.bool, device=device)
    if vis_lhand.shape != (batch,) or vis_rhand.shape != (batch,):
        raise ValueError(
            f"vis_lhand and vis_rhand must be [B] = [{batch}], got {tuple(vis_lhand.shape)} "
            f"and {tuple(vis_rhand.shape)}"
        )
    given = torch.stack([vis_lhand, vis_rhand], dim=1).to(torch.float32)
    # non_blocking: host scores (the pipeline's detector) reach a GPU without a stream sync.
    given = given.to(device, non_blocking=True)
    return given, torch.zeros((), dtype=torch.bool, device=device)


def release_visibility(mesh: dict[str, Tensor], given: bool) -> None:
    """``hand_visibility`` [B,2] -> the release's ``pred_vis_hands``: the given scores as
    [left block; right block] (2B,), or the predicted [B,2]."""
    scores = mesh.pop("hand_visibility")
    mesh["pred_vis_hands"] = scores.transpose(0, 1).flatten() if given else scores


def hands_to_run(
    vis_lhand: Tensor | None, vis_rhand: Tensor | None, batch: int, everyone: bool = False
) -> Tensor:
    """[B, 2] bool: the hands the hand expert must see. With detector scores [B] only those
    above the gate (or every hand when ``everyone``); with predicted visibility (no scores)
    all, since the prediction needs every hand's features.

    The mask is made where the scores live (the host for the pipeline's detector, and always
    the host without scores), so that ``select_hands`` never makes a GPU wait.
    """
    if vis_lhand is not None and vis_rhand is not None and not everyone:
        return torch.stack([vis_lhand, vis_rhand], dim=1).to(torch.float32) > (
            HAND_VISIBILITY_THRESHOLD
        )
    return torch.ones(batch, 2, dtype=torch.bool)


def without_hands(
    img_body: Tensor, img_lhand: Tensor | None, img_rhand: Tensor | None
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(img_lhand, img_rhand, vis_lhand, vis_rhand) for a call that runs no hand: crops that
    are never read (a zero-stride view of img_body's shape, no memory) and scores 0, so
    ``hands_to_run`` selects no hand and both hands are not visible (the mean hand pose and
    the body's own arms)."""
    if img_lhand is not None or img_rhand is not None:
        raise ValueError("give both hand crop batches or neither (None: no hand is run)")
    unread = img_body.new_zeros(()).expand(img_body.shape)
    scores = torch.zeros(img_body.shape[0])
    return unread, unread, scores, scores
