"""The port's state dict is the v1.1 checkpoint's: keys, shapes, dtypes, and seeded values."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from pymafx_ros.model.seeded_weights import read_state_dict_table

FINGERPRINT = Path(__file__).parents[1] / "fixtures" / "seeded_weights_seed0_fingerprint.tsv"


# Buffers the official code forms with a float32 BLAS product whose summation order depends on
# the CPU's kernel (here: the 6890x431 SMPL up-sampling map U[0] @ U[1] and the SMPL T-pose
# joints J_regressor @ v_template). They differ from the fingerprint by rounding only; both are
# never read by inference. Their sums are checked instead of their bytes.
def _blas_dependent(key: str) -> bool:
    return (
        key == "mesh_sampler.Umap"
        or key.endswith("body_model.tpose_joints")
        or (key.startswith("maf_extractor.") and key.endswith(".Umap"))
    )


def _read_fingerprints() -> dict[str, tuple[float, float, str]]:
    rows = {}
    for line in FINGERPRINT.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, total, total_abs, _first3, crc = line.split("\t")
        rows[key] = (float(total), float(total_abs), crc)
    return rows


def _crc32(tensor: torch.Tensor) -> str:
    return f"{zlib.crc32(tensor.detach().contiguous().numpy().tobytes()):08x}"


@pytest.fixture(scope="module")
def state(seeded_model) -> dict[str, torch.Tensor]:
    return seeded_model.state_dict()


def test_keys_shapes_dtypes_equal_the_table(state, state_dict_table):
    table = read_state_dict_table(state_dict_table)
    assert len(table) == 2888
    expected = {row.key: (row.shape, row.dtype) for row in table}
    actual = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state.items()}
    assert sorted(set(expected) - set(actual)) == []
    assert sorted(set(actual) - set(expected)) == []
    assert {k: v for k, v in actual.items() if v != expected[k]} == {}


def test_own_state_dict_loads_strictly(seeded_model, state):
    result = seeded_model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_every_key_matches_the_seed0_fingerprint(state):
    fingerprints = _read_fingerprints()
    assert set(fingerprints) == set(state)
    exact = {k: v for k, v in state.items() if not _blas_dependent(k)}
    wrong = sorted(k for k, v in exact.items() if _crc32(v) != fingerprints[k][2])
    assert wrong == []
    assert len(state) - len(exact) == 13
    for key in set(state) - set(exact):
        values = state[key].double()
        total, total_abs, _ = fingerprints[key]
        np.testing.assert_allclose(float(values.sum()), total, rtol=1e-6, err_msg=key)
        np.testing.assert_allclose(float(values.abs().sum()), total_abs, rtol=1e-6, err_msg=key)


def test_body_models_stay_out_of_the_state_dict(seeded_model, state):
    assert not any(key.startswith("body_models") for key in state)
    assert seeded_model.body_models.smplx_layer.v_template.device == torch.device("cpu")
