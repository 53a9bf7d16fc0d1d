"""The algorithm core never imports ROS: only the ROS floors (ros/, demo/, bags/, cli.py) may.

Keeps the model, front end and pipeline usable (and testable) without any ROS installation.
Checked twice: statically on every file (imports inside functions and import_module("...")
strings included), and dynamically by importing every core module in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pymafx_ros"
# Floors allowed to speak ROS (the node, the demo harness, the bag commands, the command line on
# top); every other sub-package is core, so a new one is checked without being listed here.
ROS_FLOORS = ("ros", "demo", "bags", "cli.py", "__init__.py")
CORE = tuple(
    sorted(
        p.name
        for p in (ROOT / PACKAGE).iterdir()
        if p.name not in ROS_FLOORS
        and ((p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py")
    )
)
# Top-level ROS modules (client library, interfaces, tf2, rosidl, the ament index), plus this
# package's own ROS-facing parts.
FORBIDDEN_TOP = re.compile(
    r"^(rclpy|ament_index_python|rosidl_\w+|tf2_\w+|\w+_(msgs|srvs|interfaces))$"
)
FORBIDDEN_OWN = (f"{PACKAGE}.msg", f"{PACKAGE}.ros")


def is_forbidden(module: str) -> bool:
    """True for a ROS module (see FORBIDDEN_TOP) or pymafx_ros.msg / pymafx_ros.ros."""
    if FORBIDDEN_TOP.match(module.split(".")[0]):
        return True
    return any(module == own or module.startswith(own + ".") for own in FORBIDDEN_OWN)


def _resolve(module: str | None, level: int, importer: str) -> str:
    """Absolute name of a (possibly relative) `from ... import` target, seen from `importer`."""
    if level == 0:
        return module or ""
    parts = importer.split(".")
    base = parts[: len(parts) - level]
    return ".".join(base + ([module] if module else []))


def imports_of(source: str, importer: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in `source`, including import_module('x')."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module, node.level, importer)
            found.append((node.lineno, target))
            # `from pymafx_ros import msg` imports the sub-module pymafx_ros.msg
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in {"import_module", "__import__"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((node.lineno, first.value))
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        # a package's relative imports resolve against the package itself
        return ".".join(parts) + "._"
    return ".".join(parts)


def core_files() -> list[Path]:
    roots = [ROOT / PACKAGE / sub for sub in CORE]
    return sorted(p for r in roots for p in ([r] if r.is_file() else r.rglob("*.py")))


def core_modules() -> list[str]:
    names = []
    for path in core_files():
        name = _module_name(path)
        names.append(name[: -len("._")] if name.endswith("._") else name)
    return names


def test_core_folders_exist():
    assert {"pipeline", "model", "tracking", "config"} <= set(CORE)


def test_no_core_file_imports_ros():
    offences = []
    for path in core_files():
        module = _module_name(path)
        for line, target in imports_of(path.read_text(encoding="utf-8"), module):
            if is_forbidden(target):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not offences, "only pymafx_ros/ros/ may import ROS:\n" + "\n".join(offences)


def test_scanner_catches_every_kind_of_ros_import():
    source = "\n".join(
        [
            "import numpy",
            "import rclpy.node",
            "from std_msgs.msg import Header",
            "from ..ros import node",
            "from pymafx_ros import msg",
            "def later():",
            "    import std_srvs.srv",
            "    importlib.import_module('rcl_interfaces.msg')",
            "from . import crops",
        ]
    )
    caught = {
        target for _, target in imports_of(source, "pymafx_ros.pipeline.x") if is_forbidden(target)
    }
    assert caught == {
        "rclpy.node",
        "std_msgs.msg",
        "std_msgs.msg.Header",
        "pymafx_ros.ros",
        "pymafx_ros.ros.node",
        "pymafx_ros.msg",
        "std_srvs.srv",
        "rcl_interfaces.msg",
    }


def test_importing_every_core_module_loads_no_ros():
    probe = (
        "import importlib, json, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"a core module failed to import:\n{result.stderr}"
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    ros = [m for m in loaded if is_forbidden(m)]
    assert not ros, f"importing the core loaded ROS modules: {ros}"
