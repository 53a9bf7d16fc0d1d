"""`pymafx-ros check`: per-file ok or what is wrong and where the right file comes from, what
this machine can run, and exit 0 only when the node would start."""

from __future__ import annotations

import pytest
import torch
from model_files import data_dir_with, tiny_checkpoint

from pymafx_ros.cli import main
from pymafx_ros.tools.check import cpu_flags, probe_backend


def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def test_placeholders_start_and_the_machine_is_described(capsys):
    code, out = check(capsys)
    assert code == 0 and "The node would start" in out
    assert out.count("PLACEHOLDER") == 2  # assets and weights, both said
    for needle in ("torch ", "onnxruntime", "openvino", "tensorrt", "CPU:", "CUDA", "avx2"):
        assert needle in out, needle


def test_good_files_are_listed_ok(capsys, tmp_path, placeholder_data_dir):
    checkpoint = tiny_checkpoint(tmp_path / "model.pt")
    code, out = check(capsys, "--data", str(placeholder_data_dir), "--checkpoint", str(checkpoint))
    assert code == 0, out
    assert out.count("\n  ok ") == 17 and "PLACEHOLDER" not in out


def test_broken_files_are_named_with_where_to_get_them(capsys, tmp_path):
    data = data_dir_with(tmp_path / "data", "smpl/SMPLX_NEUTRAL_2020.npz", b"")
    checkpoint = tiny_checkpoint(tmp_path / "model.pt", extra=("head.weight",))
    code, out = check(capsys, "--data", str(data), "--checkpoint", str(checkpoint))
    assert code == 2 and "would NOT start (2 problem(s))" in out
    assert f"PROBLEM  {data / 'smpl/SMPLX_NEUTRAL_2020.npz'}: unreadable or corrupt" in out
    assert "where to get it: SMPL-X" in out or "smpl-x.is.tue.mpg.de" in out
    assert "unexpected keys 1: head.weight" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_does_not_start(capsys):
    code, out = check(capsys, "--device", "cuda")
    assert code == 2 and "device 'cuda' was asked for but CUDA is not available" in out


def test_backends_that_are_missing_or_broken_are_said(tmp_path, monkeypatch):
    (tmp_path / "broken_backend.py").write_text("raise ImportError('libfoo.so missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "import failed: ImportError: libfoo.so missing" in probe_backend("broken_backend").note
    assert probe_backend("no_such_backend_here").note == "not installed"
    assert probe_backend("numpy").version


def test_cpu_flags_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("model name\t: Test CPU\nflags\t\t: fpu avx2 fma\n\nflags : avx512f\n")
    model, flags = cpu_flags(info)
    assert model == "Test CPU" and flags["avx2"] and flags["fma"] and not flags["avx512f"]
    assert cpu_flags(tmp_path / "none")[1] == {}


def test_precision_auto_decisions_are_shown(capsys, tmp_path, monkeypatch):
    from pymafx_ros.backends.auto_precision import AutoDecision, DecisionCache

    monkeypatch.setenv("PYMAFX_CACHE_DIR", str(tmp_path))
    code, out = check(capsys)
    assert code == 0
    assert "precision int8 (openvino):" in out and "no timing cached yet" in out
    decision = AutoDecision("int8", "fastest within 5.0 mm", {"fp32": 90.0, "int8": 40.0})
    DecisionCache().save("k", decision)
    code, out = check(capsys)
    assert code == 0
    assert "precision auto (cached): int8: encoders fp32 90.0 ms, int8 40.0 ms" in out
