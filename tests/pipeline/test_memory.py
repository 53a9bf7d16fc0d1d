"""Freed heap memory is handed back to the system and glibc's heaps can be capped."""

from __future__ import annotations

import sys

import pytest

from pymafx_ros.pipeline.memory import (
    limit_heap_arenas,
    resident_mb,
    return_freed_memory,
)

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc calls")


@glibc_only
def test_freed_heap_pages_are_handed_back():
    blocks = [bytearray(4000) for _ in range(50_000)]  # 200 MB of heap blocks, not mmapped
    for block in blocks:
        block[::1000] = b"\x01" * 4  # touched: resident
    pinned = bytearray(4000)  # a live block above them: the heap's top cannot shrink by itself
    held = resident_mb()
    del blocks
    kept_by_glibc = resident_mb()
    assert return_freed_memory()
    handed_back = kept_by_glibc - resident_mb()
    assert held - kept_by_glibc < 50 < handed_back, (held, kept_by_glibc, resident_mb())
    del pinned


@glibc_only
def test_the_heaps_can_be_capped():
    assert limit_heap_arenas(8)  # glibc's own default on a single core: harmless in the tests
