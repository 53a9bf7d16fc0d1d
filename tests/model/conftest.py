"""Model tests share the session's seeded placeholder model (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from pymafx_ros.model.pymafx_net import PyMAFX


@pytest.fixture(scope="session")
def seeded_model(seeded_model_build) -> PyMAFX:
    """PyMAFX in eval mode with the recipe's seed-0 weights, as the parity fixture was made.
    Tests must not modify it (or restore what they change)."""
    return seeded_model_build[0]
