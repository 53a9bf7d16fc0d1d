"""Only pymafx_ros/ros/ may import rclpy or message packages: the algorithm core stays usable
without ROS (the offline CLI, benchmarks) and testable without a ROS graph."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "pymafx_ros"
ROS_MODULES = ("rclpy", "launch", "launch_ros", "tf2_ros", "cv_bridge", "ament_index_python")
MESSAGE_SUFFIXES = ("_msgs", "_srvs", "_interfaces")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def is_ros(module: str) -> bool:
    top = module.split(".")[0]
    return (
        top in ROS_MODULES
        or top.endswith(MESSAGE_SUFFIXES)
        or module.startswith("pymafx_ros.msg")
        or module.startswith("pymafx_ros.ros")
    )


def test_nothing_outside_ros_imports_ros():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imported_modules(path) if is_ros(m))
        for path in PACKAGE.rglob("*.py")
        if "ros" not in path.relative_to(PACKAGE).parts[:1]
    }
    assert {file: mods for file, mods in offenders.items() if mods} == {}
