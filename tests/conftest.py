"""Shared fixtures: the vendored placeholder assets, the public parity fixture and the seeded
placeholder model (built once per session: drawing the 216 M seeded weights dominates)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# Test doubles shared across test folders (smplx_doubles).
sys.path.insert(0, str(Path(__file__).parent / "support"))

FIXTURES = Path(__file__).parent / "fixtures"
STATE_DICT_TABLE = (
    Path(__file__).parents[1] / "pymafx_ros" / "model" / "data" / "pymafx_v1.1_state_dict.tsv"
)


@pytest.fixture(scope="session")
def placeholder_data_dir() -> Path:
    """The unpacked placeholder ``data/`` directory (what the parity fixture was produced with)."""
    from pymafx_ros.body_models.placeholder import placeholder_data_dir

    return placeholder_data_dir()


@pytest.fixture(scope="session")
def parity_fixture() -> dict[str, np.ndarray]:
    """All arrays of ``parity_seed0.npz`` (inputs, per-iteration outputs, intermediates)."""
    with np.load(FIXTURES / "parity_seed0.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="session")
def state_dict_table() -> Path:
    return STATE_DICT_TABLE


@pytest.fixture(scope="session")
def seeded_weights_seed0(state_dict_table):
    """The seed-0 recipe's drawn tensors (float32), keyed like the official state dict."""
    from pymafx_ros.model.seeded_weights import seeded_state_dict

    return seeded_state_dict(state_dict_table, 0)


@pytest.fixture(scope="session")
def seeded_model_build(placeholder_data_dir, state_dict_table):
    """``build_model``'s (PyMAFX in eval mode, ModelBuildInfo) on the placeholder assets with the
    recipe's seed-0 weights, as the parity fixture was made. Shared by every test that needs the
    real network: tests must not modify it (or must restore what they change)."""
    import torch

    from pymafx_ros.model.factory import build_model

    torch.set_num_threads(2)
    return build_model(placeholder_data_dir, seed=0, table=state_dict_table)
