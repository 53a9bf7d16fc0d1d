"""Session-wide PyMAF-X model on the placeholder assets with the seed-0 weights (built once:
drawing the 216 M seeded weights dominates, so every model test shares this instance)."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.model.factory import build_model
from pymafx_ros.model.pymafx_net import PyMAFX


@pytest.fixture(scope="session")
def seeded_model(placeholder_data_dir, state_dict_table) -> PyMAFX:
    """PyMAFX in eval mode with the recipe's seed-0 weights, as the parity fixture was made.
    Tests must not modify it (or restore what they change)."""
    torch.set_num_threads(2)
    model, _ = build_model(placeholder_data_dir, seed=0, table=state_dict_table)
    return model
