"""Pipeline test fixtures: the placeholder SMPL-X file, a fake model, the sample photo."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_fakes import CountingFakeModel, make_model_info, smplx_layer

from pymafx_ros.pipeline.result import ModelInfo


@pytest.fixture(scope="session")
def smplx_file(placeholder_data_dir):
    return placeholder_data_dir / "smpl" / "SMPLX_NEUTRAL_2020.npz"


@pytest.fixture(scope="session")
def fake_smplx_layer(smplx_file):
    return smplx_layer(smplx_file)


@pytest.fixture
def fake_model(fake_smplx_layer) -> CountingFakeModel:
    return CountingFakeModel(fake_smplx_layer)


@pytest.fixture(scope="session")
def fake_model_info(smplx_file) -> ModelInfo:
    return make_model_info(smplx_file)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def astronaut_640(astronaut) -> np.ndarray:
    """The sample photo scaled into a 640x480 frame (black borders left and right)."""
    import cv2

    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[:, 80:560] = cv2.resize(astronaut, (480, 480), interpolation=cv2.INTER_AREA)
    return frame


@pytest.fixture(scope="session")
def real_model():
    """The real network on placeholder assets with seed-0 weights, built once per session."""
    import torch

    from pymafx_ros.model.factory import build_model
    from pymafx_ros.pipeline.model_loading import describe_model

    torch.set_num_threads(2)
    module, info = build_model(seed=0)
    return module, describe_model(info)
