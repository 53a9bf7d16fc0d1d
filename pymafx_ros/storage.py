"""Where this package keeps files it builds, and writing them so no reader ever sees half of one.

Standard library only (a leaf of the package). Everything built once and reused (unpacked
placeholder assets, derived arrays, MediaPipe bundles, exported programs and engines) lives
under ``cache_root()``. Writes go to a temporary name beside the target and are renamed into
place: a crash or an exception in the writer leaves the old state (or nothing), never a partial
file or folder under the final name, and concurrent writers race harmlessly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

CACHE_ENV = "PYMAFX_CACHE_DIR"


def cache_root() -> Path:
    """The cache folder: ``$PYMAFX_CACHE_DIR``, else ``$XDG_CACHE_HOME/pymafx_ros``, else
    ``~/.cache/pymafx_ros``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pymafx_ros"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, streamed (files may be gigabytes of weights)."""
    with Path(path).open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


@contextlib.contextmanager
def atomic_file(target: Path, suffix: str = ".partial") -> Iterator[Path]:
    """A scratch path beside ``target`` to write; renamed onto ``target`` when the block ends
    without an exception, deleted otherwise. Beside, not in /tmp: a rename within one file
    system is atomic. ``suffix`` keeps the extension writers that check it expect."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=target.parent)
    os.close(handle)
    try:
        yield Path(scratch)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)


def write_file_atomic(target: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """``target`` written by ``write(stream)`` through ``atomic_file``; returns ``target``."""
    with atomic_file(target) as scratch, scratch.open("wb") as stream:
        write(stream)
    return Path(target)


def write_text_atomic(target: Path, text: str) -> Path:
    """``target`` holding ``text`` (UTF-8), written through ``atomic_file``."""
    return write_file_atomic(target, lambda stream: stream.write(text.encode()))


def write_folder_atomic(
    target: Path, write: Callable[[Path], None], replace: bool = False
) -> Path:
    """``target`` filled by ``write(folder)`` in a staging folder beside it, then renamed into
    place: all of it or nothing. An existing ``target`` is kept (another writer won the race,
    its copy is complete) unless ``replace``, which swaps it for the new one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        write(staging)
        if replace and target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():  # a failure of our own, not a lost race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
