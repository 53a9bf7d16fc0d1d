"""Pipeline test fixtures: the placeholder SMPL-X file, a fake model, the sample photo."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_fakes import CountingFakeModel, make_model_info

from pymafx_ros.pipeline.result import ModelInfo


@pytest.fixture(scope="session")
def smplx_file(placeholder_data_dir):
    return placeholder_data_dir / "smpl" / "SMPLX_NEUTRAL_2020.npz"


@pytest.fixture
def fake_model(smplx_file) -> CountingFakeModel:
    return CountingFakeModel(smplx_file)


@pytest.fixture(scope="session")
def fake_model_info(smplx_file) -> ModelInfo:
    return make_model_info(smplx_file)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())
