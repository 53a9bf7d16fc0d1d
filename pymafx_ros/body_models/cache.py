"""Content-keyed on-disk cache for values derived from the assets.

Everything is keyed by SHA-256 of its inputs, written atomically (temporary name, then rename),
and read back with ``allow_pickle=False`` or checked for object members before anything else
reads it, so a stale or tampered cache entry can never execute code. Cache write failures (e.g.
a read-only home) only cost speed.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import scipy.sparse as sp
from numpy.lib import format as npy_format

from pymafx_ros.storage import cache_root, write_file_atomic, write_folder_atomic

_LOG = logging.getLogger(__name__)
# Bump when the way derived values are computed changes, so old entries are not reused.
CACHE_VERSION = "1"


def derived_dir() -> Path:
    """Folder of this package's derived-asset cache entries."""
    return cache_root() / "derived"


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """Hex SHA-256 over names, dtypes, shapes and bytes of some arrays."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.data)
    return digest.hexdigest()


def _save_sparse(path: Path, matrix: sp.csr_matrix) -> None:
    arrays = {
        "data": matrix.data,
        "indices": matrix.indices,
        "indptr": matrix.indptr,
        "shape": np.asarray(matrix.shape, dtype=np.int64),
    }
    write_file_atomic(path, lambda stream: np.savez(stream, **arrays))


def _load_sparse(path: Path) -> sp.csr_matrix:
    with np.load(path, allow_pickle=False) as stored:
        shape = tuple(int(s) for s in stored["shape"])
        matrix = sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=shape)
    matrix.check_format(full_check=True)
    return matrix


def cached_sparse(key: str, build: Callable[[], sp.csr_matrix]) -> sp.csr_matrix:
    """Return the CSR matrix stored under ``key``, building and storing it on a miss."""
    path = derived_dir() / f"{key}.npz"
    if path.is_file():
        try:
            return _load_sparse(path)
        except Exception as exc:  # a damaged entry is rebuilt, never trusted
            _LOG.warning("ignoring unreadable cache entry %s: %s", path, exc)
    matrix = build()
    try:
        _save_sparse(path, matrix)
    except OSError as exc:
        _LOG.warning("could not write cache entry %s: %s", path, exc)
    return matrix


def plain_numpy_files_only(folder: Path) -> None:
    """Raise ValueError unless every .npy/.npz in ``folder`` holds only non-object arrays.

    smplx opens its files with ``allow_pickle=True``; this header check makes that harmless.
    """
    for path in sorted(folder.iterdir()):
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    with archive.open(member) as stream:
                        _require_plain_header(stream, f"{path}:{member}")
        elif path.suffix == ".npy":
            with path.open("rb") as stream:
                _require_plain_header(stream, str(path))


def _require_plain_header(stream: IO[bytes], label: str) -> None:
    version = npy_format.read_magic(stream)
    read_header = (
        npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    )
    _, _, dtype = read_header(stream)
    if dtype.hasobject:
        raise ValueError(f"{label} holds Python objects")


@contextmanager
def materialised_dir(name: str, write: Callable[[Path], None]) -> Iterator[Path]:
    """A folder filled once by ``write(folder)``: cached under ``name``, or temporary if the
    cache is not writable. Concurrent builders race harmlessly (first rename wins)."""
    try:
        folder = _cached_dir(name, write)
    except OSError as exc:
        _LOG.warning("cache not writable (%s); using a temporary folder", exc)
        with tempfile.TemporaryDirectory(prefix="pymafx-") as tmp:
            write(Path(tmp))
            yield Path(tmp)
        return
    yield folder


def _cached_dir(name: str, write: Callable[[Path], None]) -> Path:
    target = derived_dir() / name
    if target.is_dir():
        return target
    return write_folder_atomic(target, write)
