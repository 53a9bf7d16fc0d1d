"""A restricted unpickler that rebuilds arrays and nothing else.

Model files are downloads from several websites; a pickle can call any importable function while
loading, so this one resolves only the globals numpy arrays, scipy.sparse matrices and chumpy
arrays are made of. scipy.sparse and chumpy objects come back as inert stand-ins that only record
their pickled state (chumpy is never imported); ``sparse_from_stand_in`` and
``ChumpyStandIn.array`` turn them into validated values afterwards.
"""

from __future__ import annotations

import codecs
import pickle
from typing import IO, Any, ClassVar

import numpy as np
import scipy.sparse as sp

_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")
_SPARSE_MODULES = {
    "scipy.sparse": None,
    "scipy.sparse.csc": "csc",
    "scipy.sparse._csc": "csc",
    "scipy.sparse.csr": "csr",
    "scipy.sparse._csr": "csr",
}
_SPARSE_CLASSES = {
    "csc_matrix": "csc",
    "csr_matrix": "csr",
    "csc_array": "csc",
    "csr_array": "csr",
}


class ForbiddenGlobalError(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (it could run code when loaded)."""

    def __init__(self, module: str, name: str) -> None:
        self.qualified_name = f"{module}.{name}"
        super().__init__(f"forbidden global {self.qualified_name}")


class _StandIn:
    """Base of the inert placeholders: remembers constructor arguments and pickled state."""

    pickled_name: ClassVar[str] = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> _StandIn:
        obj = super().__new__(cls)
        obj.args = args
        obj.state = None
        return obj

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<stand-in for {self.pickled_name}>"


class ChumpyStandIn(_StandIn):
    """A pickled chumpy object; plain ``chumpy.ch.Ch`` arrays keep their value in ``x``."""

    def array(self) -> np.ndarray:
        """The numeric value, or ValueError for chumpy expressions that need chumpy to evaluate."""
        value = self.state.get("x") if isinstance(self.state, dict) else None
        if value is None and len(self.args) == 1:
            value = self.args[0]
        if isinstance(value, ChumpyStandIn):
            return value.array()
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return value
        raise ValueError(
            f"holds a chumpy expression ({self.pickled_name}) that only chumpy can evaluate; "
            "convert the file to plain numpy first (e.g. smplx's tools/clean_ch.py)"
        )


class SparseStandIn(_StandIn):
    """A pickled scipy.sparse CSC/CSR matrix, rebuilt by ``sparse_from_stand_in``."""

    sparse_format: ClassVar[str] = ""


def sparse_from_stand_in(obj: SparseStandIn) -> sp.csc_matrix | sp.csr_matrix:
    """Rebuild a scipy matrix from the recorded state, checking its index structure."""
    state = obj.state if isinstance(obj.state, dict) else {}
    shape = state.get("_shape", state.get("shape"))
    parts = [state.get(k) for k in ("data", "indices", "indptr")]
    if shape is None or any(not isinstance(p, np.ndarray) for p in parts):
        raise ValueError(f"{obj.pickled_name} without data/indices/indptr/shape in its state")
    data, indices, indptr = parts
    if data.dtype.kind not in "biuf" or indices.dtype.kind not in "iu":
        raise ValueError(f"{obj.pickled_name} with non-numeric data or indices")
    shape = tuple(int(s) for s in shape)
    build = sp.csc_matrix if obj.sparse_format == "csc" else sp.csr_matrix
    matrix = build((data, indices, indptr), shape=shape)
    matrix.check_format(full_check=True)
    return matrix


def _make_ndarray(subtype: type, shape: Any, dtype: Any) -> np.ndarray:
    # Only plain ndarrays: a subclass' __array_finalize__ and __setstate__ could be anything.
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"array subclass {subtype!r} is not allowed")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _make_object(cls: type, base: type, state: Any) -> Any:
    """Protocol 0/1 object creation (copyreg._reconstructor), restricted to the stand-ins."""
    if not (isinstance(cls, type) and issubclass(cls, _StandIn)) or base is not object:
        raise pickle.UnpicklingError(f"cannot reconstruct {cls!r} from base {base!r}")
    if state is not None:
        raise pickle.UnpicklingError(f"unexpected constructor state for {cls.pickled_name}")
    return cls.__new__(cls)


def _fixed_globals() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes at protocol 2
    }
    for module in _NUMPY_CORE:
        table[(module, "_reconstruct")] = _make_ndarray
        table[(module, "scalar")] = np._core.multiarray.scalar
    for module in _NUMPY_NUMERIC:
        table[(module, "_frombuffer")] = np._core.numeric._frombuffer
    for module in ("copy_reg", "copyreg"):
        table[(module, "_reconstructor")] = _make_object
    for module in ("__builtin__", "builtins"):  # chumpy state holds sets; object is a base
        table[(module, "set")] = set
        table[(module, "frozenset")] = frozenset
        table[(module, "object")] = object
    return table


_FIXED_GLOBALS = _fixed_globals()
_STAND_INS: dict[str, type[_StandIn]] = {}


def _stand_in_class(module: str, name: str) -> type[_StandIn] | None:
    qualified = f"{module}.{name}"
    if qualified in _STAND_INS:
        return _STAND_INS[qualified]
    if module == "chumpy" or module.startswith("chumpy."):
        base, extra = ChumpyStandIn, {}
    elif module in _SPARSE_MODULES and name in _SPARSE_CLASSES:
        base, extra = SparseStandIn, {"sparse_format": _SPARSE_CLASSES[name]}
    else:
        return None
    stand_in = type(f"StandIn_{name}", (base,), {"pickled_name": qualified, **extra})
    _STAND_INS[qualified] = stand_in
    return stand_in


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` knows only array-building globals (latin1 for Python 2)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(stream, encoding="latin1")

    def find_class(self, module: str, name: str) -> Any:
        resolved = _FIXED_GLOBALS.get((module, name)) or _stand_in_class(module, name)
        if resolved is None:
            raise ForbiddenGlobalError(module, name)
        return resolved


def restricted_load(stream: IO[bytes]) -> Any:
    """Unpickle one object from ``stream`` with the allow-list above."""
    return RestrictedUnpickler(stream).load()
