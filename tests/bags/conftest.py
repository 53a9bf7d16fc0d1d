"""Bag test set-up: the ROS tests' doubles on the path (fake pipeline, in-process node), an
isolated DDS domain, and the fake pipeline's factory (placeholder SMPL-X people, real tracking)."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "ros" / "support"))

if os.environ.get("ROS_DOMAIN_ID", "0") in ("", "0"):
    os.environ["ROS_DOMAIN_ID"] = str(random.randint(1, 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


@pytest.fixture
def fake_factory():
    """The pipeline factory process-bag gets in tests: the ROS tests' FakePipeline."""
    from fake_pipeline import FakePipeline

    return FakePipeline
