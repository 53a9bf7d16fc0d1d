"""Print constraints.txt for the running environment: every pip-installed distribution, pinned.

Unlike `pip freeze`, it leaves out the egg-info records the ROS 2 wheels embed (rclpy, std_msgs,
...: not installable names on their own), the project itself and pip, and keeps setuptools.
"""

from __future__ import annotations

import importlib.metadata
import sys

HEADER = """\
# Exact versions of every package `make setup` installs into .venv (a tested, working set:
# Python 3.11, ROS 2 Kilted wheels, torch 2.13.0 CPU). Used as `pip install -c constraints.txt`,
# so a later registry release cannot change a fresh setup. What to install is listed in
# requirements/*.txt; this file only pins. Regenerate after a deliberate upgrade with
# `make constraints` (installed distributions of .venv, minus the project itself and the
# egg-info names the ROS wheels embed, which are not installable on their own)."""

LEFT_OUT = {"pip", "pymafx-ros"}


def canonical(name: str) -> str:
    """PEP 503 normalised project name (case and separators do not matter)."""
    return name.lower().replace("_", "-").replace(".", "-")


def installed_pins() -> list[str]:
    """`name==version` for each pip-installed distribution of this interpreter, sorted."""
    pins: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        record = getattr(dist, "_path", None)
        if record is None or not str(record).endswith(".dist-info"):
            continue
        name = dist.metadata["Name"]
        if canonical(name) not in LEFT_OUT:
            pins[canonical(name)] = f"{name}=={dist.version}"
    return [pins[key] for key in sorted(pins)]


def main() -> int:
    print(HEADER)
    print("\n".join(installed_pins()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
