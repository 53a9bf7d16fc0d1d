"""Pages of a cached file an engine maps read-only leave the process's resident set once
released, and read back unchanged; mappings elsewhere, or writable ones, are left alone."""

from __future__ import annotations

import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from pymafx_ros.backends.mapped_weights import (
    read_only_mappings,
    release_mapped_pages,
    releasing_after_new_shapes,
)
from pymafx_ros.pipeline.memory import resident_mb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux madvise")

SIZE = 64 * 2**20


@pytest.fixture()
def mapped_blob(tmp_path):
    """A 64 MB file under tmp_path/cache, mapped read-only and read whole (resident)."""
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / "weights.blob"
    path.write_bytes(np.arange(SIZE // 4, dtype=np.uint32).tobytes())
    with path.open("rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    yield folder, mapping
    mapping.close()


def test_released_pages_leave_the_resident_set_and_read_back_unchanged(mapped_blob):
    folder, mapping = mapped_blob
    view = np.frombuffer(mapping, dtype=np.uint32)
    before = resident_mb()
    assert int(view.sum(dtype=np.uint64)) > 0  # every page read: resident
    assert resident_mb() - before > 0.9 * SIZE / 2**20
    assert read_only_mappings(folder) and read_only_mappings(folder.parent / "other") == []
    loaded = resident_mb()
    assert release_mapped_pages(folder) >= SIZE
    assert loaded - resident_mb() > 0.9 * SIZE / 2**20
    assert np.array_equal(view[::1024], np.arange(0, SIZE // 4, 1024, dtype=np.uint32))
    del view


def test_the_runner_releases_after_each_new_input_shape_only(mapped_blob, monkeypatch):
    folder, _ = mapped_blob
    calls: list[object] = []
    monkeypatch.setattr(
        "pymafx_ros.backends.mapped_weights.release_mapped_pages", lambda f: calls.append(f)
    )
    run = releasing_after_new_shapes(lambda arrays: [arrays[0] * 2], folder)
    for batch in (1, 1, 2, 1, 2):
        (out,) = run([np.ones((batch, 3), np.float32)])
        assert out.shape == (batch, 3) and out[0, 0] == 2
    assert calls == [folder, folder]


def test_only_read_only_data_mappings_under_the_folder_are_chosen(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text(
        "1000-2000 r--s 00000000 fe:00 1 /cache/openvino-x/a.blob\n"
        "2000-3000 r-xp 00000000 fe:00 2 /cache/inductor/kernel.so\n"
        "3000-4000 rw-p 00000000 fe:00 3 /cache/openvino-x/b.blob\n"
        "4000-5000 r--p 00000000 fe:00 4 /elsewhere/c.blob\n"
        "5000-6000 rw-p 00000000 00:00 0\n"
    )
    assert read_only_mappings(tmp_path.parent / "nowhere", maps) == []
    chosen = read_only_mappings(Path("/cache"), maps)
    assert chosen == [(0x1000, 0x2000)]
