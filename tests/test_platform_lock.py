"""constraints.txt is the exact, complete record of the environment `make setup` installs.

If a package is installed without being pinned (or at another version), a fresh setup would
resolve differently from the environment the tests ran in.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name==version, or name===version (arbitrary equality: no local build such as +cpu matches).
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)===?(\S+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = PIN.match(line)
            assert match, f"constraints.txt: '{line}' is not an exact name==version pin"
            pins[_canonical(match.group(1))] = match.group(2)
    return pins


def test_every_installed_distribution_is_pinned_at_its_version():
    frozen = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "freeze_constraints.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    pinned = _pins((ROOT / "constraints.txt").read_text())
    mismatched = {
        name: (version, pinned.get(name))
        for name, version in _pins(frozen).items()
        if pinned.get(name) != version
    }
    assert not mismatched, (
        f"installed vs constraints.txt: {mismatched}; add it to requirements/ and run "
        "'make constraints'"
    )


# Optional extras that `make setup` never installs pin themselves exactly, in their own file.
SELF_PINNED = ("gpu.txt",)


def test_every_requirement_is_pinned():
    pinned = _pins((ROOT / "constraints.txt").read_text())
    for file in sorted((ROOT / "requirements").glob("*.txt")):
        if file.name in SELF_PINNED:
            continue
        for line in file.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name = _canonical(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0])
                assert name in pinned, f"{file.name}: {name} has no pin in constraints.txt"


def test_optional_extras_pin_themselves_exactly():
    base = (ROOT / "requirements" / "python.txt").read_text()
    torch_pin = re.search(r"^torch==(\S+)$", base, re.MULTILINE)
    assert torch_pin, "requirements/python.txt must pin torch exactly"
    for name in SELF_PINNED:
        pins = _pins((ROOT / "requirements" / name).read_text())
        assert pins.get("torch") == torch_pin.group(1), (
            f"requirements/{name} must pin the torch of python.txt ({torch_pin.group(1)})"
        )


def test_the_gpu_extras_cannot_resolve_to_a_local_cpu_torch():
    """'torch==2.13.0' also matches 2.13.0+cpu, which a find-links folder offers and pip
    prefers; '===' matches the CUDA build's exact version string only."""
    from packaging.requirements import Requirement

    lines = (ROOT / "requirements" / "gpu.txt").read_text().splitlines()
    (line,) = [ln for ln in lines if ln.startswith("torch") and not ln.startswith("torch-")]
    requirement = Requirement(line)
    assert str(requirement.specifier).startswith("===")
    assert "2.13.0" in requirement.specifier and "2.13.0+cpu" not in requirement.specifier
