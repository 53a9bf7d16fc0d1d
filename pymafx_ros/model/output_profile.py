"""The output profile: which final outputs one call of the model returns, by one name shared by
``PyMAFX.predict``, every backend and the node. Importable without torch (the node checks its
parameters against ``PROFILE_NAMES`` before loading anything heavy).

* ``joints``: cameras, shape, expression, every rotation SMPL-X gets, its 144 joints and the
  hand visibility (``mesh_decoding.PIPELINE_OUTPUTS``), with the predicted expression applied;
* ``mesh``: the same plus the SMPL-X vertices ``smplx_verts``;
* ``release``: every output of the release's final ``mesh_out`` with its neutral SMPL-X face
  (what the parity check compares).
"""

from __future__ import annotations

from typing import Literal

OutputProfile = Literal["joints", "mesh", "release"]
PROFILE_NAMES: tuple[OutputProfile, ...] = ("joints", "mesh", "release")

# profile -> (the SMPL-X layer's outputs, whether SMPL-X applies the predicted expression).
# The release leaves SMPL-X's face neutral; the pipeline publishes the expression as an SMPL-X
# parameter, so its profiles apply it (the published parameters then reproduce the joints).
_DECODING: dict[str, tuple[Literal["all", "mesh", "joints"], bool]] = {
    "joints": ("joints", True),
    "mesh": ("mesh", True),
    "release": ("all", False),
}


def profile_decoding(profile: str) -> tuple[Literal["all", "mesh", "joints"], bool]:
    """(SMPL-X outputs to decode, apply the expression) of ``profile``; ValueError if unknown."""
    if profile not in _DECODING:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, got {profile!r}")
    return _DECODING[profile]
