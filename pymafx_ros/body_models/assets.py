"""Load a PyMAF-X data directory into one validated, typed bundle of arrays.

Floats become float32 and indices int64, the conversions the official code applies when it
builds its buffers, so everything downstream matches it bit for bit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pymafx_ros.storage import file_sha256

from .cache import CACHE_VERSION, cached_sparse
from .errors import AssetError
from .layout import DATA_DIR_HELP, LAYOUT, LOAD_ORDER
from .validate import Checked, load_file

_SMPLX_TO_SMPL = "smpl/model_transfer/smplx_to_smpl.pkl"


@dataclass(frozen=True, eq=False)
class SkinnedModel:
    """One SMPL-family model as smplx stores it (V vertices, F faces, J joints)."""

    v_template: np.ndarray  # (V, 3) float32
    faces: np.ndarray  # (F, 3) int64
    shapedirs: np.ndarray  # (V, 3, S) float32
    posedirs: np.ndarray  # (V, 3, 9 * (J - 1)) float32
    J_regressor: np.ndarray  # (J, V) float32, dense
    weights: np.ndarray  # (V, J) float32
    parents: np.ndarray  # (J,) int64, parents[0] == -1


@dataclass(frozen=True, eq=False)
class LandmarkEmbedding:
    """Face landmarks as barycentric points: 51 static, 17 contour points per yaw bin (79)."""

    faces_idx: np.ndarray  # (51,) int64
    bary_coords: np.ndarray  # (51, 3) float32
    dynamic_faces_idx: np.ndarray  # (79, 17) int64
    dynamic_bary_coords: np.ndarray  # (79, 17, 3) float32


@dataclass(frozen=True, eq=False)
class HandPoseSpace:
    """PCA basis and mean of a MANO-style hand pose (15 joints x axis-angle)."""

    components: np.ndarray  # (45, 45) float32
    mean: np.ndarray  # (45,) float32


@dataclass(frozen=True, eq=False)
class PyMafxAssets:
    """Every array PyMAF-X v1.1 full-body inference needs, validated."""

    mean_pose: np.ndarray  # (144,) float32: 24 joints x 6D
    mean_shape: np.ndarray  # (10,) float32
    mean_cam: np.ndarray  # (3,) float32: weak-perspective s, tx, ty
    J_regressor_extra: np.ndarray  # (9, 6890) float32
    smpl_down_map: np.ndarray  # (431, 6890) float32 = D[1] @ D[0]
    smpl_up_map: np.ndarray  # (6890, 431) float32 = U[0] @ U[1] (checkpoint buffer only)
    mano_down_map: np.ndarray  # (195, 778) float32 = D[0]
    mano_up_map: np.ndarray  # (778, 195) float32 = U[0] (checkpoint buffer only)
    flame_sampling_idx: np.ndarray  # (708,) int64
    smpl: SkinnedModel
    smplx: SkinnedModel
    smplx_landmarks: LandmarkEmbedding
    smplx_left_hand: HandPoseSpace
    smplx_right_hand: HandPoseSpace
    mano: SkinnedModel
    mano_hand: HandPoseSpace
    flame: SkinnedModel
    flame_landmarks: LandmarkEmbedding
    smplx_to_smpl: sp.csr_matrix  # (6890, 10475) float32
    smplx_to_flame_vids: np.ndarray  # (5023,) int64
    smplx_lhand_vids: np.ndarray  # (778,) int64: MANO vertex i of the left hand in SMPL-X
    smplx_rhand_vids: np.ndarray  # (778,) int64
    smpl_lhand_vids: np.ndarray  # (778,) int64: SMPL vertices nearest the left MANO hand
    smpl_rhand_vids: np.ndarray  # (778,) int64
    is_placeholder: bool
    provenance: str
    data_dir: Path
    file_digests: dict[str, str] = field(repr=False)


def _f32(array: Checked) -> np.ndarray:
    dense = array.toarray() if sp.issparse(array) else array
    return np.ascontiguousarray(dense, dtype=np.float32)


def _i64(array: Checked) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.int64)


def _skinned(entries: dict[str, Checked]) -> SkinnedModel:
    parents = np.array(entries["kintree_table"][0], dtype=np.int64)
    parents[0] = -1  # the files store 2**32 - 1 for "no parent"
    return SkinnedModel(
        v_template=_f32(entries["v_template"]),
        faces=_i64(entries["f"]),
        shapedirs=_f32(entries["shapedirs"]),
        posedirs=_f32(entries["posedirs"]),
        J_regressor=_f32(entries["J_regressor"]),
        weights=_f32(entries["weights"]),
        parents=parents,
    )


def _transfer_matrix(data_dir: Path) -> sp.csr_matrix:
    """smplx_to_smpl as CSR float32 (the official code casts the dense matrix to float32)."""
    matrix = load_file(data_dir, LAYOUT[_SMPLX_TO_SMPL])["matrix"]
    csr = sp.csr_matrix(matrix).astype(np.float32)
    csr.eliminate_zeros()
    return csr


def _placeholder_seed(data_dir: Path) -> int | None:
    """The ``asset_seed`` of a placeholder tree's MANIFEST.json, None for real data."""
    manifest = data_dir / "MANIFEST.json"
    if not manifest.is_file():
        return None
    try:
        seed = json.loads(manifest.read_text()).get("asset_seed")
    except (OSError, ValueError, AttributeError):
        return None
    return int(seed) if isinstance(seed, int) else None


def _require_files(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise AssetError(data_dir, "data directory not found", DATA_DIR_HELP)
    missing = [spec for path, spec in LAYOUT.items() if not (data_dir / path).is_file()]
    if len(missing) == 1:
        raise AssetError(data_dir / missing[0].path, "file not found", missing[0].source)
    if missing:
        listing = "".join(f"\n  - {spec.path}: {spec.source}" for spec in missing)
        raise AssetError(data_dir, f"{len(missing)} required files are missing:{listing}")


def _provenance(data_dir: Path, seed: int | None, digests: dict[str, str]) -> str:
    combined = hashlib.sha256("".join(f"{p}:{d}" for p, d in sorted(digests.items())).encode())
    kind = (
        f"PLACEHOLDER assets (fake geometry, asset_seed {seed}; not a human model)"
        if seed is not None
        else "PyMAF-X data"
    )
    return f"{kind} at {data_dir} (content sha256 {combined.hexdigest()[:16]})"


def load_assets(data_dir: str | Path) -> PyMafxAssets:
    """Read, validate and convert a PyMAF-X ``data/`` directory (see ``layout.LAYOUT``).

    Raises ``AssetError`` naming the file, what was expected and where the real file comes
    from. The dense SMPL-X -> SMPL matrix is converted to sparse once and cached by content.
    """
    data_dir = Path(data_dir).expanduser().resolve()
    _require_files(data_dir)
    digests = {path: file_sha256(data_dir / path) for path in LAYOUT}
    f = {path: load_file(data_dir, LAYOUT[path]) for path in LOAD_ORDER if path != _SMPLX_TO_SMPL}
    transfer = cached_sparse(
        f"smplx_to_smpl-{digests[_SMPLX_TO_SMPL][:32]}-v{CACHE_VERSION}",
        lambda: _transfer_matrix(data_dir),
    )
    mean = f["smpl_mean_params.npz"]
    smpl_d = f["smpl_downsampling.npz"]
    mano_d = f["mano_downsampling.npz"]
    smplx = f["smpl/SMPLX_NEUTRAL_2020.npz"]
    mano = f["smpl/MANO_RIGHT.pkl"]
    static = f["smpl/FLAME2020/flame_static_embedding.pkl"]
    dynamic = f["smpl/FLAME2020/flame_dynamic_embedding.npy"]
    mano_ids = f["smpl/model_transfer/MANO_SMPLX_vertex_ids.pkl"]
    seed = _placeholder_seed(data_dir)
    return PyMafxAssets(
        mean_pose=_f32(mean["pose"]),
        mean_shape=_f32(mean["shape"]),
        mean_cam=_f32(mean["cam"]),
        J_regressor_extra=_f32(f["J_regressor_extra.npy"][""]),
        # float32 products as the official code forms them; exact for these 0/1 selections
        smpl_down_map=_f32(smpl_d["D"][1].astype(np.float32) @ smpl_d["D"][0].astype(np.float32)),
        smpl_up_map=_f32(smpl_d["U"][0].astype(np.float32) @ smpl_d["U"][1].astype(np.float32)),
        mano_down_map=_f32(mano_d["D"][0]),
        mano_up_map=_f32(mano_d["U"][0]),
        flame_sampling_idx=_i64(f["flame_downsampling.npy"][""]),
        smpl=_skinned(f["smpl/SMPL_NEUTRAL.pkl"]),
        smplx=_skinned(smplx),
        smplx_landmarks=LandmarkEmbedding(
            faces_idx=_i64(smplx["lmk_faces_idx"]),
            bary_coords=_f32(smplx["lmk_bary_coords"]),
            dynamic_faces_idx=_i64(smplx["dynamic_lmk_faces_idx"]),
            dynamic_bary_coords=_f32(smplx["dynamic_lmk_bary_coords"]),
        ),
        smplx_left_hand=HandPoseSpace(
            _f32(smplx["hands_componentsl"]), _f32(smplx["hands_meanl"])
        ),
        smplx_right_hand=HandPoseSpace(
            _f32(smplx["hands_componentsr"]), _f32(smplx["hands_meanr"])
        ),
        mano=_skinned(mano),
        mano_hand=HandPoseSpace(_f32(mano["hands_components"]), _f32(mano["hands_mean"])),
        flame=_skinned(f["smpl/FLAME2020/FLAME_NEUTRAL.pkl"]),
        flame_landmarks=LandmarkEmbedding(
            faces_idx=_i64(static["lmk_face_idx"]),
            bary_coords=_f32(static["lmk_b_coords"]),
            dynamic_faces_idx=_i64(dynamic["lmk_face_idx"]),
            dynamic_bary_coords=_f32(dynamic["lmk_b_coords"]),
        ),
        smplx_to_smpl=transfer,
        smplx_to_flame_vids=_i64(f["smpl/model_transfer/SMPL-X__FLAME_vertex_ids.npy"][""]),
        smplx_lhand_vids=_i64(mano_ids["left_hand"]),
        smplx_rhand_vids=_i64(mano_ids["right_hand"]),
        smpl_lhand_vids=_i64(f["partial_mesh/smpl_lhand_vids.npz"]["vids"]),
        smpl_rhand_vids=_i64(f["partial_mesh/smpl_rhand_vids.npz"]["vids"]),
        is_placeholder=seed is not None,
        provenance=_provenance(data_dir, seed, digests),
        data_dir=data_dir,
        file_digests=digests,
    )
