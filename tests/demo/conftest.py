"""The demo's tests share the ROS tests' set-up: their support helpers on the path and an isolated
DDS domain (tests/ros/conftest.py, run once here rather than copied)."""

from __future__ import annotations

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).parents[1] / "ros" / "conftest.py"))
