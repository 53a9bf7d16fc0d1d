"""The artefact cache: keyed, built once, atomic, self-checking, pruned; a damaged entry is
rebuilt, both when its files are truncated and when an engine cannot load it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from pymafx_ros.backends.artefact_cache import KEEP_PER_PROGRAM, ArtefactCache, EntryKey
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.source import OnnxProgram, write_onnx
from pymafx_ros.backends.onnxruntime_backend import OnnxRuntimeBackend

KEY = EntryKey("onnx", "body_encoder", "fp32", {"weights": "a1", "code": "c1", "torch": "2.13"})


class Builder:
    """A build function that counts its calls and writes two files."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self, folder: Path) -> None:
        self.calls += 1
        (folder / "model.onnx").write_bytes(b"graph" * 100)
        (folder / "sub").mkdir()
        (folder / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 40)
        if self.fail:
            raise RuntimeError("exporter crashed")


def test_built_once_then_reused(tmp_path):
    cache = ArtefactCache(tmp_path)
    build = Builder()
    first = cache.get_or_build(KEY, build, "test program")
    second = cache.get_or_build(KEY, build, "test program")
    assert first == second and build.calls == 1
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["key"]["inputs"] == dict(sorted(KEY.inputs.items()))
    assert set(manifest["files"]) == {"model.onnx", "sub/weights.bin"}
    assert cache.verify(KEY) is None


@pytest.mark.parametrize("field", ["weights", "code", "torch"])
def test_every_key_input_and_the_precision_give_another_entry(tmp_path, field):
    cache = ArtefactCache(tmp_path)
    build = Builder()
    changed = EntryKey(KEY.kind, KEY.program, KEY.precision, {**KEY.inputs, field: "other"})
    bf16 = EntryKey(KEY.kind, KEY.program, "bf16", KEY.inputs)
    folders = {cache.get_or_build(key, build, "x") for key in (KEY, changed, bf16)}
    assert len(folders) == 3 and build.calls == 3


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / "sub" / "weights.bin").write_bytes(b"short"), "missing or truncated"),
        (lambda f: (f / "model.onnx").unlink(), "missing or truncated"),
        (lambda f: (f / "manifest.json").write_text("{not json"), "unreadable manifest"),
    ],
)
def test_a_damaged_entry_is_rebuilt(tmp_path, caplog, damage, reason):
    cache = ArtefactCache(tmp_path)
    build = Builder()
    folder = cache.get_or_build(KEY, build, "test program")
    damage(folder)
    assert reason in cache.check(KEY)
    with caplog.at_level(logging.WARNING):
        again = cache.get_or_build(KEY, build, "test program")
    assert again == folder and build.calls == 2 and cache.verify(KEY) is None
    assert "unusable" in caplog.text and "rebuilding" in caplog.text


def test_flipped_bytes_of_the_right_size_fail_verify(tmp_path):
    cache = ArtefactCache(tmp_path)
    folder = cache.get_or_build(KEY, Builder(), "test program")
    data = bytearray((folder / "model.onnx").read_bytes())
    data[3] ^= 0xFF
    (folder / "model.onnx").write_bytes(bytes(data))
    assert cache.check(KEY) is None  # sizes alone cannot see it ...
    assert "checksum" in cache.verify(KEY)  # ... the checksums can


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    cache = ArtefactCache(tmp_path)
    with pytest.raises(RuntimeError, match="exporter crashed"):
        cache.get_or_build(KEY, Builder(fail=True), "test program")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
    assert cache.check(KEY) == "not built yet"


def test_only_the_most_recent_versions_are_kept(tmp_path):
    cache = ArtefactCache(tmp_path)
    keys = [
        EntryKey(KEY.kind, KEY.program, KEY.precision, {**KEY.inputs, "weights": str(i)})
        for i in range(KEEP_PER_PROGRAM + 2)
    ]
    for key in keys:
        cache.get_or_build(key, Builder(), "x")
    kept = [key for key in keys if cache.check(key) is None]
    assert kept == keys[-KEEP_PER_PROGRAM:]


def test_an_entry_the_engine_cannot_load_is_rebuilt(tmp_path, seeded_model, caplog):
    """A damaged ONNX file of the right size passes the size check; ONNX Runtime refuses it,
    the backend discards the entry, rebuilds it and goes on."""
    cache = ArtefactCache(tmp_path)
    backend = OnnxRuntimeBackend(seeded_model, "fp32", CpuFeatures("test", frozenset()), cache)
    builds = []

    class TinySource:
        """Stands in for ProgramSource: one small real ONNX program, cached like the real ones."""

        def __init__(self) -> None:
            self.cache = cache

        def onnx(self, name: str, phase_deconvolutions: bool = False) -> OnnxProgram:
            key = EntryKey("onnx", name, "fp32", {"weights": "tiny"})

            def build(folder: Path) -> None:
                builds.append(name)
                layer = torch.nn.Linear(4, 3).eval()
                program = torch.export.export(layer, (torch.zeros(2, 4),))
                write_onnx(program, folder / "model.onnx", ("image",), ("out",))

            folder = cache.get_or_build(key, build, "tiny program")
            return OnnxProgram(folder / "model.onnx", ("image",), ("out",), {}, key)

    backend.source = TinySource()
    program = backend.source.onnx("tiny")
    files = sorted(program.path.parent.glob("model.onnx*"))
    for path in files:  # same sizes, garbage content
        path.write_bytes(b"\x00" * path.stat().st_size)
    with caplog.at_level(logging.WARNING):
        runner, _ = backend._runner("tiny")
    assert builds == ["tiny", "tiny"]
    assert "could not load it" in caplog.text
    (out,) = runner([np.ones((2, 4), np.float32)])
    assert out.shape == (2, 3) and np.isfinite(out).all()
