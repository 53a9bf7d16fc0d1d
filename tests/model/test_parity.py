"""End-to-end parity with the official code on the seed-0 fixture (all four sections)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from pymafx_ros.tools import parity

FIXTURE = Path(__file__).parents[1] / "fixtures" / "parity_seed0.npz"


@pytest.fixture(scope="module")
def report(seeded_model) -> parity.ParityReport:
    return parity.run_parity(FIXTURE, model=seeded_model)


def test_every_fixture_output_is_within_tolerance(report, parity_fixture):
    assert report.ok, parity.format_report(report, with_features=False)
    compared = {f"{c.section}_{c.group}_{c.name}" for c in report.outputs}
    expected = {k for k in parity_fixture if re.match(r"^[A-Z]_(m\d+|out)_", k)}
    assert compared == expected


def test_sections_and_iterations_are_all_replayed(report):
    groups = {(c.section, c.group) for c in report.outputs}
    assert {("A", f"m{k}") for k in range(4)} <= groups
    assert {("B", "m3"), ("C", "out"), ("D", "out")} <= groups


def test_intermediates_localise_nothing(report):
    assert len(report.features) > 100
    assert [c.name for c in report.features if not c.ok] == []


def test_predict_equals_the_final_mesh_out(seeded_model, parity_fixture):
    images = [
        torch.from_numpy(parity_fixture[f"in_img_{p}"]) for p in ("body", "lhand", "rhand", "face")
    ]
    with torch.inference_mode():
        final = seeded_model.predict(
            *images,
            vis_lhand=torch.from_numpy(parity_fixture["in_vis_lhand"]),
            vis_rhand=torch.from_numpy(parity_fixture["in_vis_rhand"]),
        )
    for name in ("smplx_verts", "rotmat", "pred_lhand_rotmat", "kp_2d", "pred_vis_hands"):
        assert np.abs(final[name].numpy() - parity_fixture[f"A_m3_{name}"]).max() < 1e-4, name


def test_a_wrong_regressor_weight_is_reported(seeded_model, parity_fixture, tmp_path):
    keep = [k for k in parity_fixture if k.startswith(("in_", "C_")) or k == "meta_json"]
    small = tmp_path / "c_only.npz"
    np.savez(small, **{k: parity_fixture[k] for k in keep})
    bias = seeded_model.regressor[2].deccam.bias
    original = bias.detach().clone()
    try:
        with torch.no_grad():
            bias += 1e-3
        broken = parity.run_parity(small, model=seeded_model)
    finally:
        with torch.no_grad():
            bias.copy_(original)
    assert not broken.ok
    failing = {c.name for c in broken.failures}
    assert "pred_cam" in failing and "kp_2d" in failing
    assert "FAIL:" in parity.format_report(broken)


def test_command_rejects_a_file_that_is_not_a_fixture(tmp_path, capsys):
    bogus = tmp_path / "bogus.npz"
    np.savez(bogus, x=np.zeros(1))
    assert parity.main([str(bogus)]) == 2
    assert "not a PyMAF-X parity fixture" in capsys.readouterr().err
