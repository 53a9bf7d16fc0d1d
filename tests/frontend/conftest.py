"""Real photos shipped inside installed wheels, and a guard that no test reaches the network."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's 512x512 portrait photo (one person, face visible, both hands out of view)."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def two_people(astronaut) -> np.ndarray:
    """The astronaut beside matplotlib's Grace Hopper portrait, 512 px high (two people)."""
    import cv2
    from matplotlib import cbook

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    hopper = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    hopper = cv2.resize(hopper, (round(512 * hopper.shape[1] / hopper.shape[0]), 512))
    return np.ascontiguousarray(np.concatenate([astronaut, hopper], axis=1))


@pytest.fixture(scope="module")
def no_network() -> Iterator[None]:
    """Make every socket connection from Python fail loudly for the whole test module (a model
    download would try one)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the front end tried to reach the network")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory) -> Iterator[None]:
    """Build the Tasks bundles into a fresh cache, as on a first run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYMAFX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield
