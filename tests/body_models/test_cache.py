"""The derived-asset cache: entries are rebuilt when damaged and never trusted to run code."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from pymafx_ros.body_models.cache import cached_sparse, derived_dir
from pymafx_ros.body_models.safe_pickle import ForbiddenGlobalError
from pymafx_ros.body_models.smplx_factory import build_flame_layer


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYMAFX_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_cached_sparse_roundtrip_and_rebuild(private_cache):
    matrix = sp.csr_matrix(np.array([[0.0, 2.0], [3.0, 0.0]], dtype=np.float32))
    builds = []

    def build():
        builds.append(1)
        return matrix

    first = cached_sparse("m", build)
    again = cached_sparse("m", build)
    assert len(builds) == 1 and (again != first).nnz == 0
    (derived_dir() / "m.npz").write_bytes(b"not a zip")
    assert (cached_sparse("m", build) != matrix).nnz == 0 and len(builds) == 2


def _flame_folder() -> os.PathLike:
    (folder,) = [p for p in derived_dir().iterdir() if p.name.startswith("flame-")]
    return folder


def test_tampered_pickle_in_cache_is_refused(assets, private_cache, tmp_path):
    build_flame_layer(assets)
    sentinel = tmp_path / "pwned"
    static = _flame_folder() / "flame_static_embedding.pkl"
    static.write_bytes(pickle.dumps({"lmk_face_idx": _Payload(f"touch {sentinel}")}))
    with pytest.raises(ForbiddenGlobalError):
        build_flame_layer(assets)
    assert not sentinel.exists()


def test_object_member_in_cached_npz_is_refused(assets, private_cache):
    build_flame_layer(assets)
    holder = np.empty((), dtype=object)
    holder[()] = {"anything": 1}
    np.save(_flame_folder() / "flame_dynamic_embedding.npy", holder, allow_pickle=True)
    with pytest.raises(ValueError, match="holds Python objects"):
        build_flame_layer(assets)
