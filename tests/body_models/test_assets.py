"""Data-directory validation and the typed asset bundle built from the placeholder tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from pymafx_ros.body_models.assets import load_assets
from pymafx_ros.body_models.errors import AssetError
from pymafx_ros.body_models.layout import LAYOUT
from pymafx_ros.body_models.validate import load_file


def _tree(source: Path, target: Path, skip=(), manifest: bool = True) -> Path:
    """A data directory of symlinks to ``source`` (cheap to build and to break one file of)."""
    names = [p for p in LAYOUT if p not in skip] + (["MANIFEST.json"] if manifest else [])
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).symlink_to(source / name)
    return target


def _replace(tree: Path, name: str) -> Path:
    """Turn one symlink of the tree into a private copy that a test may damage."""
    path = tree / name
    original = path.resolve()
    path.unlink()
    shutil.copyfile(original, path)
    return path


def test_missing_file_is_named_with_its_origin(placeholder_data_dir, tmp_path):
    tree = _tree(placeholder_data_dir, tmp_path, skip={"smpl/MANO_RIGHT.pkl"})
    with pytest.raises(AssetError) as info:
        load_assets(tree)
    message = str(info.value)
    assert "smpl/MANO_RIGHT.pkl: file not found" in message
    assert "https://mano.is.tue.mpg.de" in message


def test_all_missing_files_are_listed(placeholder_data_dir, tmp_path):
    skip = {"smpl/SMPLX_NEUTRAL_2020.npz", "flame_downsampling.npy"}
    with pytest.raises(AssetError, match="2 required files are missing") as info:
        load_assets(_tree(placeholder_data_dir, tmp_path, skip=skip))
    message = str(info.value)
    assert "SMPLX_NEUTRAL_2020.npz: SMPL-X v1.1" in message
    assert "https://smpl-x.is.tue.mpg.de" in message and "flame_downsampling.npy" in message


def test_missing_data_directory(tmp_path):
    with pytest.raises(AssetError, match="data directory not found"):
        load_assets(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("smpl/MANO_RIGHT.pkl", "corrupt pickled dict"),
        ("J_regressor_extra.npy", "truncated array data"),
        ("smpl/SMPLX_NEUTRAL_2020.npz", "corrupt numpy .npz archive"),
    ],
)
def test_truncated_file_is_reported(placeholder_data_dir, tmp_path, name, problem):
    tree = _tree(placeholder_data_dir, tmp_path)
    path = _replace(tree, name)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(AssetError, match=problem) as info:
        load_file(tree, LAYOUT[name])
    assert str(path) in str(info.value)
    assert LAYOUT[name].source in str(info.value)


def _overwrite_npy(tree: Path, name: str, array: np.ndarray) -> None:
    path = tree / name
    path.unlink()
    np.save(path, array)


def test_wrong_shape_names_file_key_and_expectation(placeholder_data_dir, tmp_path):
    tree = _tree(placeholder_data_dir, tmp_path)
    _overwrite_npy(tree, "J_regressor_extra.npy", np.zeros((8, 6890)))
    with pytest.raises(AssetError) as info:
        load_file(tree, LAYOUT["J_regressor_extra.npy"])
    message = str(info.value)
    assert "J_regressor_extra.npy: the array has shape (8, 6890)" in message
    assert "expected float array of shape (9x6890)" in message
    assert "fetch_data.sh" in message


def test_wrong_dtype_and_out_of_range_indices(placeholder_data_dir, tmp_path):
    tree = _tree(placeholder_data_dir, tmp_path)
    spec = LAYOUT["flame_downsampling.npy"]
    _overwrite_npy(tree, spec.path, np.zeros(708, dtype=np.float64))
    with pytest.raises(AssetError, match="has dtype float64; expected integer array"):
        load_file(tree, spec)
    _overwrite_npy(tree, spec.path, np.full(708, 5023, dtype=np.int64))
    with pytest.raises(AssetError, match=r"values in \[5023, 5023\].*values in \[0, 5023\)"):
        load_file(tree, spec)


def test_missing_key_and_nan(placeholder_data_dir, tmp_path):
    tree = _tree(placeholder_data_dir, tmp_path)
    spec = LAYOUT["smpl_mean_params.npz"]
    (tree / spec.path).unlink()
    pose, shape = np.zeros(144, np.float32), np.zeros(10)
    np.savez(tree / spec.path, pose=pose, shape=shape)
    with pytest.raises(AssetError, match="missing entry 'cam'"):
        load_file(tree, spec)
    (tree / spec.path).unlink()
    np.savez(tree / spec.path, pose=pose, shape=shape + np.nan, cam=np.zeros(3, np.float32))
    with pytest.raises(AssetError, match="entry 'shape' contains NaN"):
        load_file(tree, spec)


def test_placeholder_bundle_is_typed_and_flagged(assets):
    assert assets.is_placeholder
    assert "PLACEHOLDER" in assets.provenance and "20230101" in assets.provenance
    assert set(assets.file_digests) == set(LAYOUT)
    assert assets.mean_pose.dtype == assets.mean_cam.dtype == np.float32
    assert assets.mean_pose.shape == (144,) and assets.mean_shape.dtype == np.float32
    assert assets.smpl_down_map.shape == (431, 6890) and assets.mano_down_map.shape == (195, 778)
    assert assets.smpl_up_map.shape == (6890, 431) and assets.mano_up_map.shape == (778, 195)
    for model, verts, joints in (
        (assets.smpl, 6890, 24),
        (assets.smplx, 10475, 55),
        (assets.mano, 778, 16),
        (assets.flame, 5023, 5),
    ):
        assert model.v_template.shape == (verts, 3) and model.v_template.dtype == np.float32
        assert model.J_regressor.shape == (joints, verts) and model.faces.dtype == np.int64
        assert model.parents[0] == -1 and (model.parents[1:] < np.arange(1, joints)).all()
    assert sp.isspmatrix_csr(assets.smplx_to_smpl) and assets.smplx_to_smpl.dtype == np.float32
    assert assets.smplx_to_smpl.shape == (6890, 10475)
    assert assets.smpl_lhand_vids.shape == (778,) and assets.smplx_rhand_vids.dtype == np.int64


def test_sparse_transfer_matrix_equals_the_dense_file(assets, placeholder_data_dir):
    spec = LAYOUT["smpl/model_transfer/smplx_to_smpl.pkl"]
    dense = load_file(placeholder_data_dir, spec)["matrix"]
    rows = np.arange(0, 6890, 97)  # a sample: the full comparison costs a second
    np.testing.assert_array_equal(assets.smplx_to_smpl[rows].toarray(), dense[rows])
    assert assets.smplx_to_smpl.nnz == np.count_nonzero(dense)


def test_real_layout_without_manifest_is_not_placeholder(placeholder_data_dir, tmp_path):
    loaded = load_assets(_tree(placeholder_data_dir, tmp_path, manifest=False))
    assert not loaded.is_placeholder
    assert loaded.provenance.startswith("PyMAF-X data at ")
