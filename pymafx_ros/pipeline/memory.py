"""The process's resident memory: read it (psutil, for diagnostics and benchmarks) and give
freed heap memory back to the system.

glibc keeps the pages of freed small and mid-sized blocks in its heaps; building the model
frees about a gigabyte that way (the seeded weights, the checkpoint's tensors, the torch model
once the exported engine holds its own weights), which would stay resident for the node's life.
``malloc_trim`` is glibc's own call for handing such pages back (there is no Python binding).
Each thread that allocates also gets a heap ("arena") of its own, up to 8 per core, whose
partly used pages cannot be handed back: ``limit_heap_arenas`` caps them (glibc's ``mallopt``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import resource
import sys

MIB = 2**20
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
# Heaps for the node's threads (callbacks, inference, the engines' workers): measured on the
# node at 1080p, 2 instead of glibc's default saved about 45 MB and cost no frame rate.
NODE_HEAP_ARENAS = 2


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
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    # Not glibc (musl, macOS): neither call exists, there is nothing to do.
    return library if hasattr(library, "malloc_trim") and hasattr(library, "mallopt") else None


def return_freed_memory() -> bool:
    """Give the free pages of glibc's heaps back to the system (``malloc_trim(0)``); False
    where the C library has no such call. Takes milliseconds: call it after big frees."""
    glibc = _glibc()
    if glibc is None:
        return False
    glibc.malloc_trim(0)
    return True


def limit_heap_arenas(count: int = NODE_HEAP_ARENAS) -> bool:
    """Cap glibc's heaps at ``count`` (threads share them); call it before the threads start.
    False where the C library is not glibc."""
    glibc = _glibc()
    return glibc is not None and glibc.mallopt(M_ARENA_MAX, count) == 1
