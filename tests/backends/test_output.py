"""BackendOutput: the typed result of ``Backend.predict`` keeps every release name."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.backends.output import PROFILE_OUTPUTS, BackendOutput


def _mesh(**extra: torch.Tensor) -> dict[str, torch.Tensor]:
    mesh = {name: torch.full((1, 3), float(i)) for i, name in enumerate(PROFILE_OUTPUTS)}
    mesh.update(extra)
    return mesh


def test_joints_profile_round_trips_without_vertices():
    out = BackendOutput.from_mesh(_mesh())
    assert out.smplx_verts is None and dict(out.release_extras) == {}
    assert out.as_dict().keys() == set(PROFILE_OUTPUTS)
    assert out.smplx_joints.eq(PROFILE_OUTPUTS.index("smplx_joints")).all()


def test_mesh_and_release_outputs_keep_their_names():
    verts, kp = torch.zeros(1, 10475, 3), torch.zeros(1, 49, 3)
    out = BackendOutput.from_mesh(_mesh(smplx_verts=verts, kp_3d=kp))
    assert out.smplx_verts is verts and out.release_extras == {"kp_3d": kp}
    assert set(out.as_dict()) == {*PROFILE_OUTPUTS, "smplx_verts", "kp_3d"}


def test_a_missing_output_is_named():
    mesh = _mesh()
    del mesh["pred_cam"]
    with pytest.raises(KeyError, match="pred_cam"):
        BackendOutput.from_mesh(mesh)
