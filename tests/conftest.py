"""Shared fixtures: the vendored placeholder assets and the public parity fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
