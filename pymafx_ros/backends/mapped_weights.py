"""Drop the resident pages of cached programs that an engine maps but no longer reads.

OpenVINO maps its compiled blob (the weights) from the artefact cache and, with the batch left
free, packs the weights into its kernels' layouts at the first inference of a shape: from then
on the mapped originals (about 600 MB in fp32) are not read, yet stay resident in this process.
``madvise(MADV_DONTNEED)`` on those read-only file mappings removes them from the process's
resident set; the bytes stay in the file (and the page cache), so a later read faults them back
in from there, unchanged. No library offers this for maps the process did not create itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

LOG = logging.getLogger(__name__)

MADV_DONTNEED = 4  # Linux's value (sys/mman.h)
# A loaded program: numpy inputs in the program's input order -> numpy outputs (as exported.py).
Runner = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@functools.cache
def _madvise() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or not name:
        return None
    function = ctypes.CDLL(name, use_errno=True).madvise
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


def read_only_mappings(
    folder: Path, maps: Path = Path("/proc/self/maps")
) -> list[tuple[int, int]]:
    """(start, end) addresses of this process's read-only, non-executable mappings of files
    under ``folder``."""
    try:
        lines = maps.read_text().splitlines()
    except OSError:
        return []
    prefix = str(folder.resolve()) + "/"
    found = []
    for line in lines:
        fields = line.split(maxsplit=5)
        # Data only: neither written nor executed (compiled kernels' code stays put).
        permissions = fields[1] if len(fields) == 6 else "w"
        if "w" not in permissions and "x" not in permissions and fields[5].startswith(prefix):
            start, end = (int(value, 16) for value in fields[0].split("-"))
            found.append((start, end))
    return found


def release_mapped_pages(folder: Path) -> int:
    """Drop this process's resident pages of read-only files mapped from under ``folder``;
    returns the bytes of mappings advised (0 where the system offers no ``madvise``)."""
    madvise = _madvise()
    if madvise is None:
        return 0
    released = 0
    for start, end in read_only_mappings(folder):
        if madvise(start, end - start, MADV_DONTNEED) == 0:
            released += end - start
        else:
            LOG.debug("madvise on a mapping under %s failed: errno %d", folder, ctypes.get_errno())
    return released


def releasing_after_new_shapes(runner: Runner, folder: Path) -> Runner:
    """``runner`` that drops the mapped cached files' pages (``release_mapped_pages``) after
    each call with input shapes it has not seen: the calls on which the engine packs weights."""
    seen: set[tuple[tuple[int, ...], ...]] = set()

    def run(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        outputs = runner(arrays)
        shapes = tuple(tuple(array.shape) for array in arrays)
        if shapes not in seen:
            seen.add(shapes)
            release_mapped_pages(folder)
        return outputs

    return run
