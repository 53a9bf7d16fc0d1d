"""Read the raw entries of one data-directory file without ever running unrestricted pickle.

Plain numeric .npy/.npz members are read as raw bytes; object members (the downsampling
matrices, the FLAME contour dict) and .pkl files go through ``safe_pickle``. numpy's own loader
is not used because with ``allow_pickle=True`` it would unpickle object members unrestricted.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from .errors import AssetError
from .layout import Container, FileSpec
from .safe_pickle import ForbiddenGlobalError, restricted_load

_CHUNK_BYTES = 1 << 20


def read_npy_stream(stream: IO[bytes]) -> np.ndarray:
    """Read one .npy payload: numeric arrays from raw bytes, object arrays via safe unpickling."""
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        array = restricted_load(stream)
        if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
            raise ValueError(f"object payload is not an array of shape {shape}")
        return array
    expected = math.prod(shape) * dtype.itemsize
    buffer = bytearray(expected)
    filled = _fill(stream, memoryview(buffer))
    if filled != expected:
        raise ValueError(f"truncated array data: expected {expected} bytes, found {filled}")
    order = "F" if fortran_order else "C"
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


def _fill(stream: IO[bytes], target: memoryview) -> int:
    """Copy the stream into ``target`` in bounded chunks (big zip reads are slow otherwise)."""
    filled = 0
    while filled < len(target):
        chunk = stream.read(min(_CHUNK_BYTES, len(target) - filled))
        if not chunk:
            break
        target[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled


def _read_npz(path: Path, spec: FileSpec) -> dict[str, Any]:
    entries = {}
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        for array_spec in spec.arrays:
            member = f"{array_spec.key}.npy"
            if member not in members:
                raise AssetError(
                    path,
                    f"missing entry '{array_spec.key}' (expected {array_spec.describe()});"
                    f" the archive holds {sorted(m.removesuffix('.npy') for m in members)}",
                    spec.source,
                )
            with archive.open(member) as stream:
                entries[array_spec.key] = read_npy_stream(stream)
    return entries


def _read_pickled_dict(path: Path, spec: FileSpec) -> Any:
    with path.open("rb") as stream:
        if spec.container is Container.PICKLE:
            return restricted_load(stream)
        holder = read_npy_stream(stream)
    if holder.dtype != object or holder.shape != ():
        raise ValueError(f"expected a 0-d object array holding a dict, found {holder.dtype}")
    return holder.item()


def read_entries(data_dir: Path, spec: FileSpec) -> dict[str, Any]:
    """Raw values of ``spec``'s keys (arrays, sparse/chumpy stand-ins, object arrays).

    Every failure becomes an ``AssetError`` naming the file and where the real one comes from.
    """
    path = data_dir / spec.path
    if not path.is_file():
        raise AssetError(path, "file not found", spec.source)
    try:
        if spec.container is Container.NPZ:
            return _read_npz(path, spec)
        if spec.container is Container.NPY:
            with path.open("rb") as stream:
                return {"": read_npy_stream(stream)}
        content = _read_pickled_dict(path, spec)
    except AssetError:
        raise
    except ForbiddenGlobalError as exc:
        raise AssetError(
            path,
            f"refused to unpickle: it references {exc.qualified_name}, which is not a numpy,"
            " scipy.sparse or chumpy array type (pickles can run code; only arrays are loaded)",
            spec.source,
        ) from exc
    except Exception as exc:  # any parse failure of untrusted bytes is a bad file, not a bug
        raise AssetError(
            path, f"unreadable or corrupt {spec.container.value}: {exc}", spec.source
        ) from exc
    if not isinstance(content, dict):
        raise AssetError(path, f"expected a dict, found {type(content).__name__}", spec.source)
    missing = [a for a in spec.arrays if a.key not in content]
    if missing:
        wanted = "; ".join(f"'{a.key}': {a.describe()}" for a in missing)
        raise AssetError(path, f"missing entries {wanted}", spec.source)
    return {a.key: content[a.key] for a in spec.arrays}
