"""``pymafx-ros build-engines`` as a user runs it: its exit codes and messages on a machine
without CUDA or Torch-TensorRT, bad arguments, and ``--export-only`` writing programs that
load and compute what the model computes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pymafx_ros.backends.export.programs import example_head_inputs
from pymafx_ros.cli import main

ROOT = Path(__file__).resolve().parents[2]
CAN_BUILD = torch.cuda.is_available() and importlib.util.find_spec("torch_tensorrt") is not None


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pymafx_ros.cli", "build-engines", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CAN_BUILD, reason="this machine has CUDA and Torch-TensorRT")
def test_without_cuda_or_torch_tensorrt_it_exits_2_naming_what_is_missing():
    result = _cli("--precision", "fp16", "--max-people", "2")
    assert result.returncode == 2, result.stderr
    message = result.stderr
    if not torch.cuda.is_available():
        assert "missing CUDA: torch sees no CUDA device" in message
    if importlib.util.find_spec("torch_tensorrt") is None:
        assert "missing torch_tensorrt: Torch-TensorRT is not installed" in message
    assert "--export-only --out DIR" in message and result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-people", "0"], "max_people must be >= 1"),
        (["--max-people", "65", "--export-only", "--out", "x"], r"max_people must lie in"),
        (["--export-only"], "--export-only needs --out DIR"),
        (["--out", "somewhere"], "--out is for --export-only"),
        (["--profiles", "joints,face"], "comma-separated list of joints, mesh, release"),
        (["--precision", "bf16"], "invalid choice: 'bf16'"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(args, message, capsys, monkeypatch):
    monkeypatch.setattr("pymafx_ros.model.factory.build_model", _no_model)
    try:
        code = main(["build-engines", *args])
    except SystemExit as error:  # argparse's own refusals
        code = error.code
    assert code == 2
    assert message in capsys.readouterr().err


def _no_model(*args, **kwargs):
    raise AssertionError("a bad argument must be refused before the model is built")


def test_export_only_writes_programs_that_load_and_compute_the_model(
    seeded_model_build, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("pymafx_ros.model.factory.build_model", lambda **kw: seeded_model_build)
    out = tmp_path / "programs"
    code = main(["build-engines", "--export-only", "--out", str(out), "--profiles", "joints"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"to {out.resolve()}" in printed and "[4/4] exporting head_joints (fp32)" in printed
    manifest = json.loads((out / "programs.json").read_text())
    assert manifest["precision"] == "fp16" and manifest["max_people"] == 1
    assert list(manifest["programs"]) == [
        "body_encoder",
        "hand_encoder",
        "face_encoder",
        "head_joints",
    ]
    model = seeded_model_build[0]
    hand = manifest["programs"]["hand_encoder"]
    assert hand["file"] == "hand_encoder.fp16.pt2" and hand["precision"] == "fp16"
    assert hand["inputs"] == ["image:1x3x224x224/2x3x224x224/2x3x224x224:float32"]
    crops = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        maps = torch.export.load(out / hand["file"]).module()(crops)
        want = model.encoders["hand"](crops)
    for got, expected in zip(maps, want, strict=True):
        assert got.dtype == torch.float32
        assert (got - expected).abs().max() <= 1e-2 * expected.abs().max()
    head = manifest["programs"]["head_joints"]
    inputs = example_head_inputs(1, 2)
    with torch.no_grad():
        outputs = torch.export.load(out / head["file"]).module()(*inputs)
    assert len(outputs) == len(head["outputs"]) and "smplx_joints" in head["outputs"]
    joints = outputs[head["outputs"].index("smplx_joints")]
    assert joints.shape == (1, 144, 3) and torch.isfinite(joints).all()
    # Torch-TensorRT takes each engine's min / opt / max from the program's own batch ranges
    # (range bounds, the example's size), not from the profiles passed with it: they must agree.
    for name, entry in manifest["programs"].items():
        program = torch.export.load(out / entry["file"])
        profiles = [text.rsplit(":", 1)[0] for text in entry["inputs"]]
        assert _program_ranges(program) == profiles, name
    assert manifest["programs"]["head_joints"]["program_ranges"]["hand_map0"] == (
        "1x256x14x14/2x256x14x14/2x256x14x14"
    )


def _program_ranges(program) -> list[str]:
    """'name:min/opt/max' of each user input, as Torch-TensorRT reads a program: a dynamic
    size's range bounds and its example value (the hint)."""
    described = []
    for name in program.graph_signature.user_inputs:
        node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == name)
        shapes: list[list[str]] = [[], [], []]
        for size in node.meta["val"].shape:
            if isinstance(size, int):
                values = (size, size, size)
            else:
                bounds = program.range_constraints[size.node.expr]
                values = (int(bounds.lower), size.node.hint, int(bounds.upper))
            for shape, value in zip(shapes, values, strict=True):
                shape.append(str(value))
        described.append(f"{name}:" + "/".join("x".join(s) or "scalar" for s in shapes))
    return described


@pytest.mark.skipif(CAN_BUILD, reason="this machine has CUDA and Torch-TensorRT")
def test_dry_run_without_cuda_or_torch_tensorrt_exits_2_naming_what_it_needs():
    result = _cli("--dry-run", "--max-people", "3")
    assert result.returncode == 2, result.stderr
    assert "cannot run Torch-TensorRT's dry run here: missing" in result.stderr
    if importlib.util.find_spec("torch_tensorrt") is None:
        assert "missing torch_tensorrt: Torch-TensorRT is not installed" in result.stderr
    assert "--export-only --out DIR" in result.stderr and result.stdout == ""


def test_dry_run_takes_no_export_arguments(capsys, monkeypatch):
    monkeypatch.setattr("pymafx_ros.model.factory.build_model", _no_model)
    assert main(["build-engines", "--dry-run", "--export-only", "--out", "x"]) == 2
    assert "--dry-run checks the build here" in capsys.readouterr().err
