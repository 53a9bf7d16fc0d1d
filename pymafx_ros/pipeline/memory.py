"""The process's resident memory: read it (psutil, for diagnostics and benchmarks) and give
freed heap memory back to the system.

glibc keeps the pages of freed small and mid-sized blocks in its heaps; building the model
frees about a gigabyte that way (the seeded weights, the checkpoint's tensors, the torch model
once the exported engine holds its own weights), which would stay resident for the node's life.
``malloc_trim`` is glibc's own call for handing such pages back (there is no Python binding).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import resource
import sys
from collections.abc import Callable

MIB = 2**20


def resident_mb() -> float:
    """Resident memory (RSS) of this process now, in MiB."""
    import psutil

    return psutil.Process().memory_info().rss / MIB


def peak_resident_mb() -> float:
    """The most resident memory this process has held so far, in MiB: the kernel's high-water
    mark, which it updates lazily (so never below the resident memory now)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return max(peak / MIB if sys.platform == "darwin" else peak / 1024, resident_mb())


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def return_freed_memory() -> bool:
    """Give the free pages of glibc's heaps back to the system (``malloc_trim(0)``); False
    where the C library has no such call. Takes milliseconds: call it after big frees."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
