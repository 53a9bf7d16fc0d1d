"""Turn raw file entries into checked numpy / scipy values, or say exactly what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import AssetError
from .layout import ArraySpec, FileSpec, Kind
from .readers import read_entries
from .safe_pickle import ChumpyStandIn, SparseStandIn, sparse_from_stand_in

Checked = np.ndarray | sp.csr_matrix | list[sp.csr_matrix]


def _materialise(value: Any) -> Any:
    """Replace stand-ins by their numeric value (chumpy arrays, sparse matrices)."""
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()  # .npz members that pickle a single object
    if isinstance(value, ChumpyStandIn):
        return value.array()
    if isinstance(value, SparseStandIn):
        return sparse_from_stand_in(value)
    return value


def _shape_problem(shape: tuple[int, ...], spec: ArraySpec) -> str | None:
    fits = len(shape) == len(spec.shape) and all(
        want < 0 or got == want for got, want in zip(shape, spec.shape, strict=True)
    )
    if not fits or (spec.min_last and shape[-1] < spec.min_last):
        return f"has shape {shape}"
    return None


def _check_dense(array: np.ndarray, spec: ArraySpec) -> np.ndarray:
    allowed = "iu" if spec.kind is Kind.INT else "fiu"
    if array.dtype.kind not in allowed:
        raise ValueError(f"has dtype {array.dtype}")
    problem = _shape_problem(array.shape, spec)
    if problem:
        raise ValueError(problem)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError("contains NaN or infinite values")
    if spec.index_bound and array.size and (array.min() < 0 or array.max() >= spec.index_bound):
        raise ValueError(f"has values in [{array.min()}, {array.max()}]")
    return array


def _check_matrix(value: Any, spec: ArraySpec) -> np.ndarray | sp.csr_matrix:
    if not sp.issparse(value):
        if not isinstance(value, np.ndarray):
            raise ValueError(f"is a {type(value).__name__}")
        return _check_dense(value, spec)
    problem = _shape_problem(value.shape, spec)
    if problem:
        raise ValueError(problem)
    matrix = sp.csr_matrix(value, dtype=np.float64)
    if not np.isfinite(matrix.data).all():
        raise ValueError("contains NaN or infinite values")
    return matrix


def _check_sparse_list(value: Any, spec: ArraySpec) -> list[sp.csr_matrix]:
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = list(value.ravel())
    if not isinstance(value, list | tuple) or len(value) < len(spec.items):
        raise ValueError(f"is a {type(value).__name__}, not a sequence of {len(spec.items)}+")
    matrices = []
    for item, shape in zip(value, spec.items, strict=False):
        matrix = _materialise(item)
        if not sp.issparse(matrix) or matrix.shape != shape:
            found = getattr(matrix, "shape", type(matrix).__name__)
            raise ValueError(f"item {len(matrices)} is {found}, not a {shape} sparse matrix")
        matrices.append(sp.csr_matrix(matrix, dtype=np.float64))
    return matrices


def check_entry(value: Any, spec: ArraySpec) -> Checked:
    """Validate one raw entry against its spec; ValueError says what was found instead."""
    if spec.kind is Kind.SPARSE_LIST:
        return _check_sparse_list(value, spec)
    value = _materialise(value)
    if spec.kind is Kind.MATRIX:
        return _check_matrix(value, spec)
    if not isinstance(value, np.ndarray):
        raise ValueError(f"is a {type(value).__name__}")
    return _check_dense(value, spec)


def load_file(data_dir: Path, spec: FileSpec) -> dict[str, Checked]:
    """Read and validate every entry of one file (key "" for a bare .npy array)."""
    raw = read_entries(data_dir, spec)
    checked = {}
    for array_spec in spec.arrays:
        try:
            checked[array_spec.key] = check_entry(raw[array_spec.key], array_spec)
        except (ValueError, TypeError) as exc:
            name = f"entry '{array_spec.key}'" if array_spec.key else "the array"
            raise AssetError(
                data_dir / spec.path,
                f"{name} {exc}; expected {array_spec.describe()}",
                spec.source,
            ) from exc
    return checked
