"""storage.py: cache root, atomic file and folder writes, file SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pymafx_ros import storage


class WriterFailedError(Exception):
    pass


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PYMAFX_CACHE_DIR", str(tmp_path / "cache"))
    assert storage.cache_root() == tmp_path / "cache"
    monkeypatch.delenv("PYMAFX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert storage.cache_root() == tmp_path / "xdg" / "pymafx_ros"


def test_sha256_equals_hashlib(tmp_path):
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * 5000  # larger than one read chunk
    path.write_bytes(data)
    assert storage.file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_atomic_file_write_replaces_the_target(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    storage.write_text_atomic(target, "first")
    storage.write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert _leftovers(target.parent) == ["out.txt"]


def test_a_raising_writer_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.bin"

    def write(stream):
        stream.write(b"half of it")
        raise WriterFailedError

    with pytest.raises(WriterFailedError):
        storage.write_file_atomic(target, write)
    assert _leftovers(tmp_path) == []


def test_a_raising_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(WriterFailedError), storage.atomic_file(target) as scratch:
        scratch.write_bytes(b"new but unfinished")
        raise WriterFailedError
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == ["out.bin"]


def test_folder_write_is_all_or_nothing(tmp_path):
    target = tmp_path / "entry"

    def fail_halfway(folder: Path) -> None:
        (folder / "a.txt").write_text("a")
        raise WriterFailedError

    with pytest.raises(WriterFailedError):
        storage.write_folder_atomic(target, fail_halfway)
    assert _leftovers(tmp_path) == []

    def write_all(folder: Path) -> None:
        (folder / "a.txt").write_text("a")
        (folder / "b.txt").write_text("b")

    assert storage.write_folder_atomic(target, write_all) == target
    assert _leftovers(target) == ["a.txt", "b.txt"]
    assert _leftovers(tmp_path) == ["entry"]


def test_folder_write_keeps_a_complete_folder_unless_replacing(tmp_path):
    target = tmp_path / "entry"
    storage.write_folder_atomic(target, lambda folder: (folder / "old").write_text("1"))
    # Another writer's complete copy wins the race.
    storage.write_folder_atomic(target, lambda folder: (folder / "new").write_text("2"))
    assert _leftovers(target) == ["old"]
    storage.write_folder_atomic(
        target, lambda folder: (folder / "new").write_text("2"), replace=True
    )
    assert _leftovers(target) == ["new"]
    assert _leftovers(tmp_path) == ["entry"]


def test_storage_imports_only_the_standard_library():
    import ast
    import sys

    tree = ast.parse(Path(storage.__file__).read_text())
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}
