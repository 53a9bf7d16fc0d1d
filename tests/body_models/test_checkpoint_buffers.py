"""Asset-derived checkpoint buffers against the seed-0 fingerprint of the official build."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from pymafx_ros.body_models.smpl_body import build_smpl_body_model

FINGERPRINT = "tests/fixtures/seeded_weights_seed0_fingerprint.tsv"


@pytest.fixture(scope="module")
def fingerprint(request) -> dict[str, tuple[float, str]]:
    """key -> (float64 sum, crc32 of the raw little-endian bytes)."""
    rows = {}
    path = request.config.rootpath / FINGERPRINT
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, total, _, _, crc = line.split("\t")
            rows[key] = (float(total), crc)
    return rows


def _crc(array: np.ndarray | torch.Tensor) -> str:
    data = array.numpy() if isinstance(array, torch.Tensor) else array
    return f"{zlib.crc32(np.ascontiguousarray(data).tobytes()):08x}"


def test_sampler_buffers_are_bit_exact(assets, fingerprint):
    exact = {
        "mesh_sampler.Dmap": assets.smpl_down_map,
        "mano_sampler.Dmap": assets.mano_down_map,
        "mano_sampler.Umap": assets.mano_up_map,
        "flame_sampler.sampling_idx": assets.flame_sampling_idx,
    }
    for key, value in exact.items():
        assert _crc(value) == fingerprint[key][1], key


def test_smpl_up_map_matches_to_rounding(assets, fingerprint):
    # 3x3 non-zeros per entry are summed; the float32 rounding order is the BLAS's choice, so
    # only the value (not the bits) is reproducible across machines. Unused by forward.
    total = float(assets.smpl_up_map.astype(np.float64).sum())
    assert total == pytest.approx(fingerprint["mesh_sampler.Umap"][0], abs=1e-5)


def test_smpl_body_model_buffers(assets, fingerprint):
    state = build_smpl_body_model(assets).state_dict()
    keys = {k for k in fingerprint if k.startswith("regressor.0.body_model.")}
    assert {f"regressor.0.body_model.{k}" for k in state} == keys
    for name, value in state.items():
        key = f"regressor.0.body_model.{name}"
        if name == "tpose_joints":  # a float32 matmul: summation order varies with the BLAS
            assert float(value.double().sum()) == pytest.approx(fingerprint[key][0], abs=1e-5)
        else:
            assert _crc(value) == fingerprint[key][1], key
