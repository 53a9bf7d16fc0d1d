"""Restricted unpickling: arrays, sparse matrices and chumpy arrays load; code never runs."""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from pymafx_ros.body_models.errors import AssetError
from pymafx_ros.body_models.layout import ArraySpec, Container, FileSpec, Kind
from pymafx_ros.body_models.readers import read_npy_stream
from pymafx_ros.body_models.safe_pickle import ForbiddenGlobalError, restricted_load
from pymafx_ros.body_models.validate import load_file

SOURCE = "https://example.org/where-the-file-comes-from"


class _Payload:
    """Pickles as a call of ``function(*args)``: what a malicious model file would contain."""

    def __init__(self, function, *args) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _spec(path: str, container: Container, *arrays: ArraySpec) -> FileSpec:
    return FileSpec(path, container, arrays, SOURCE)


def _payloads(sentinel: Path) -> list[tuple[_Payload, str]]:
    return [
        (_Payload(os.system, f"touch {sentinel}"), f"{os.system.__module__}.system"),
        (_Payload(eval, f"open({str(sentinel)!r}, 'w')"), "builtins.eval"),
        (_Payload(subprocess.Popen, ["touch", str(sentinel)]), "subprocess.Popen"),
    ]


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_code_payload_in_pickle_is_refused_and_not_run(tmp_path, which, protocol):
    sentinel = tmp_path / "pwned"
    payload, qualified = _payloads(sentinel)[which]
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps({"v_template": payload}, protocol=protocol))
    spec = _spec(path.name, Container.PICKLE, ArraySpec("v_template", Kind.FLOAT, (2,)))
    with pytest.raises(AssetError) as info:
        load_file(tmp_path, spec)
    message = str(info.value)
    assert str(path) in message and "refused to unpickle" in message and SOURCE in message
    if protocol >= 3:  # lower protocols name the Python 2 module (__builtin__, commands)
        assert qualified in message
    assert f".{qualified.rsplit('.', 1)[1]}" in message
    assert not sentinel.exists()


def test_code_payload_in_npz_object_member_is_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    members = np.empty(2, dtype=object)
    members[:] = [_Payload(os.system, f"touch {sentinel}"), None]
    np.savez(tmp_path / "smpl_downsampling.npz", D=members, U=members)
    spec = _spec(
        "smpl_downsampling.npz",
        Container.NPZ,
        ArraySpec("D", Kind.SPARSE_LIST, items=((2, 2),)),
    )
    with pytest.raises(AssetError, match=r"smpl_downsampling\.npz.*refused.*system"):
        load_file(tmp_path, spec)
    assert not sentinel.exists()


def test_code_payload_in_npy_dict_is_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    holder = np.empty((), dtype=object)
    holder[()] = {"lmk_face_idx": _Payload(os.system, f"touch {sentinel}")}
    np.save(tmp_path / "emb.npy", holder, allow_pickle=True)
    spec = _spec("emb.npy", Container.NPY_DICT, ArraySpec("lmk_face_idx", Kind.INT, (1,)))
    with pytest.raises(AssetError, match="refused"):
        load_file(tmp_path, spec)
    assert not sentinel.exists()


def test_forbidden_global_error_names_the_global():
    data = pickle.dumps(_Payload(os.system, "true"), protocol=2)
    with pytest.raises(ForbiddenGlobalError, match=f"{os.system.__module__}.system"):
        restricted_load(io.BytesIO(data))


@pytest.fixture
def fake_chumpy(monkeypatch):
    """A stand-in ``chumpy.ch.Ch`` so that pickles look like the real SMPL/MANO/FLAME files."""
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    ch_class = type("Ch", (), {"__module__": "chumpy.ch"})
    module.Ch, package.ch = ch_class, module
    monkeypatch.setitem(sys.modules, "chumpy", package)
    monkeypatch.setitem(sys.modules, "chumpy.ch", module)
    return ch_class


def _chumpy_array(ch_class, value: np.ndarray):
    obj = ch_class.__new__(ch_class)
    # The state real chumpy pickles: the value under 'x' plus bookkeeping (sets, dicts).
    obj.__dict__.update(
        {"x": value, "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {},
         "_make_dense": False, "_make_sparse": False}
    )  # fmt: skip
    return obj


@pytest.mark.parametrize("protocol", [0, 2])
def test_chumpy_arrays_and_sparse_load_without_chumpy(
    tmp_path, monkeypatch, fake_chumpy, protocol
):
    shapedirs = np.arange(24, dtype=np.float64).reshape(4, 3, 2) / 7
    regressor = sp.csc_matrix(np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    content = {"shapedirs": _chumpy_array(fake_chumpy, shapedirs), "J_regressor": regressor}
    (tmp_path / "MANO_RIGHT.pkl").write_bytes(pickle.dumps(content, protocol=protocol))
    monkeypatch.delitem(sys.modules, "chumpy")
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    spec = _spec(
        "MANO_RIGHT.pkl",
        Container.PICKLE,
        ArraySpec("shapedirs", Kind.FLOAT, (4, 3, -1), min_last=2),
        ArraySpec("J_regressor", Kind.MATRIX, (2, 4)),
    )
    loaded = load_file(tmp_path, spec)
    assert "chumpy" not in sys.modules  # rebuilt from the pickled state, never imported
    np.testing.assert_array_equal(loaded["shapedirs"], shapedirs)
    assert sp.issparse(loaded["J_regressor"])
    np.testing.assert_array_equal(loaded["J_regressor"].toarray(), regressor.toarray())


def test_chumpy_expression_gets_a_clear_error(tmp_path, monkeypatch, fake_chumpy):
    expression = fake_chumpy.__new__(fake_chumpy)
    expression.__dict__.update({"a": 1, "b": 2})  # e.g. a lazily evaluated sum: no 'x'
    (tmp_path / "m.pkl").write_bytes(pickle.dumps({"v_template": expression}, protocol=2))
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    spec = _spec("m.pkl", Container.PICKLE, ArraySpec("v_template", Kind.FLOAT, (2,)))
    with pytest.raises(AssetError, match=r"chumpy expression \(chumpy\.ch\.Ch\).*clean_ch"):
        load_file(tmp_path, spec)


def _py2_array_pickle(key: str, values: np.ndarray) -> bytes:
    """A dict {key: float64 array} as Python 2's cPickle (protocol 2) writes it: byte strings
    are str opcodes, so Python 3 can read them only with encoding='latin1'."""

    def text(s: str) -> bytes:
        raw = s.encode("latin1")
        return b"U" + bytes([len(raw)]) + raw

    data = values.astype("<f8").tobytes()
    dtype = b"cnumpy\ndtype\n" + text("f8") + b"K\x00K\x01\x87R"
    dtype_state = b"(K\x03" + text("<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    new_array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + text("b") + b"\x87R"
    )
    shape = b"K" + bytes([values.size]) + b"\x85"
    state = b"(K\x01" + shape + dtype + dtype_state + b"\x89T" + struct.pack("<I", len(data))
    return b"\x80\x02}" + text(key) + new_array + state + data + b"tbs."


def test_python2_latin1_pickle_loads(tmp_path):
    values = np.array([-1.5, 3.25e10, 1e-300, 7.0])  # raw bytes include non-ASCII values
    payload = _py2_array_pickle("hands_mean", values)
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(payload)  # the default ASCII decoding cannot read it
    (tmp_path / "old.pkl").write_bytes(payload)
    spec = _spec("old.pkl", Container.PICKLE, ArraySpec("hands_mean", Kind.FLOAT, (4,)))
    np.testing.assert_array_equal(load_file(tmp_path, spec)["hands_mean"], values)


def test_npz_object_member_of_sparse_matrices_loads(tmp_path):
    matrices = np.empty(2, dtype=object)
    matrices[:] = [sp.csc_matrix(np.eye(3)[:2]), sp.csc_matrix(np.ones((1, 2)))]
    np.savez(tmp_path / "ds.npz", D=matrices)
    spec = _spec("ds.npz", Container.NPZ, ArraySpec("D", Kind.SPARSE_LIST, items=((2, 3), (1, 2))))
    loaded = load_file(tmp_path, spec)["D"]
    np.testing.assert_array_equal(loaded[0].toarray(), np.eye(3)[:2])
    np.testing.assert_array_equal(loaded[1].toarray(), np.ones((1, 2)))


def test_sparse_matrix_with_broken_indices_is_rejected(tmp_path):
    matrix = sp.csc_matrix(np.eye(3))
    matrix.indices[1] = 7  # row index outside the 3 rows
    (tmp_path / "j.pkl").write_bytes(pickle.dumps({"J_regressor": matrix}, protocol=2))
    spec = _spec("j.pkl", Container.PICKLE, ArraySpec("J_regressor", Kind.MATRIX, (3, 3)))
    with pytest.raises(AssetError, match=r"j\.pkl.*J_regressor"):
        load_file(tmp_path, spec)


def test_npy_reader_roundtrips_fortran_order():
    array = np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4))
    buffer = io.BytesIO()
    np.save(buffer, array)
    buffer.seek(0)
    np.testing.assert_array_equal(read_npy_stream(buffer), array)
