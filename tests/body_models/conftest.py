"""Session-wide placeholder assets and body-model family (loading takes a few seconds)."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.body_models.assets import PyMafxAssets, load_assets
from pymafx_ros.body_models.layers import BodyModelFamily


@pytest.fixture(scope="session")
def assets(placeholder_data_dir) -> PyMafxAssets:
    return load_assets(placeholder_data_dir)


@pytest.fixture(scope="session")
def family(assets) -> BodyModelFamily:
    torch.set_num_threads(2)
    return BodyModelFamily(assets).eval()
