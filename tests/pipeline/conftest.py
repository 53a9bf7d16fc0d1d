"""Pipeline test fixtures: the placeholder SMPL-X file, a fake model, the sample photo."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_fakes import CountingFakeModel
from smplx_doubles import placeholder_model_info, placeholder_smplx_file, placeholder_smplx_layer

from pymafx_ros.pipeline.result import ModelInfo


@pytest.fixture(scope="session")
def smplx_file():
    return placeholder_smplx_file()


@pytest.fixture(scope="session")
def fake_smplx_layer():
    return placeholder_smplx_layer()


@pytest.fixture
def fake_model(fake_smplx_layer) -> CountingFakeModel:
    return CountingFakeModel(fake_smplx_layer)


@pytest.fixture(scope="session")
def fake_model_info() -> ModelInfo:
    return placeholder_model_info()


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
def real_model(seeded_model_build):
    """The real network on placeholder assets with seed-0 weights (the session's one build)."""
    import dataclasses

    from pymafx_ros.pipeline.model_loading import describe_model, model_body

    module, info = seeded_model_build
    # As load_model: the SMPL-X data every published value is recomputed with.
    return module, dataclasses.replace(describe_model(info), body=model_body(module, True))
