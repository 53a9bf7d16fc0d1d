"""Backend tests share the session's seeded placeholder model (see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def seeded_model(seeded_model_build):
    """PyMAFX as loaded (not prepared), seed-0 weights. Tests must not modify it."""
    return seeded_model_build[0]
