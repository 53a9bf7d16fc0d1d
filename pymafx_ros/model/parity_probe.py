"""Intermediates of a forward pass under the parity fixture's ``A_feat_*`` names.

The fixture (reference README section 8) stores encoder maps, sampling points, attention and
fusion outputs and regressor inputs of the official forward; ``PyMAFX.forward(..., probe={})``
fills a dict with the same quantities so that a mismatch can be localised.
"""

from __future__ import annotations

import torch

Tensors = dict[str, torch.Tensor]


def record(probe: Tensors | None, part: str, name: str, value: torch.Tensor) -> None:
    """Store an intermediate under the fixture's naming (``{}`` = part name); no-op without a
    probe. Hand tensors are the release's [right; left] batches, stored as ``rhand`` /
    ``lhand``."""
    if probe is None:
        return
    if part == "hand":
        half = value.shape[0] // 2
        probe[name.format("rhand")] = value[:half].detach()
        probe[name.format("lhand")] = value[half:].detach()
    else:
        probe[name.format(part)] = value.detach()


def record_encoders(probe: Tensors, pyramids: dict[str, list[torch.Tensor]]) -> None:
    """Encoder maps under the fixture's names; the finest hand/face maps only in summary
    (first 32 channels and per-channel means), as the fixture keeps them."""
    for part, levels in pyramids.items():
        for level, feature_map in enumerate(levels):
            name = f"enc_{part}_sfeat{level}"
            if part != "body" and level == len(levels) - 1:
                probe[f"{name}_ch0to31"] = feature_map[:, :32].detach()
                probe[f"{name}_chanmean"] = feature_map.mean(dim=(2, 3)).detach()
            else:
                probe[name] = feature_map.detach()
