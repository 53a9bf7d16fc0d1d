"""The PyMAF-X ``data/`` directory as this package reads it: files, keys, shapes, and origins.

Only what inference needs is listed (the official code opens a few more files, e.g. the unused
partial meshes, which are not required here). Shapes use -1 for "any length"; ``min_last`` puts
a lower bound on the last axis where the official layers slice it (betas, expressions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What an entry must hold (any float/integer width is accepted and converted later)."""

    FLOAT = "float array"
    INT = "integer array"
    MATRIX = "2-D float matrix, dense or scipy.sparse"
    SPARSE_LIST = "sequence of scipy.sparse matrices"


class Container(Enum):
    """How a file stores its entries."""

    NPZ = "numpy .npz archive"
    NPY = "numpy .npy array"
    NPY_DICT = "numpy .npy holding a pickled dict (0-d object array)"
    PICKLE = "pickled dict (Python 2 or 3, may contain chumpy / scipy.sparse objects)"


@dataclass(frozen=True)
class ArraySpec:
    """One entry of a file. ``key`` is "" for a bare .npy array."""

    key: str
    kind: Kind
    shape: tuple[int, ...] = ()
    min_last: int = 0
    index_bound: int = 0  # > 0: integer values must lie in [0, index_bound)
    items: tuple[tuple[int, int], ...] = ()  # SPARSE_LIST: leading item shapes required

    def describe(self) -> str:
        """Human-readable expectation, used verbatim in error messages."""
        if self.kind is Kind.SPARSE_LIST:
            shapes = ", ".join(f"{r}x{c}" for r, c in self.items)
            return f"{self.kind.value} starting with shapes [{shapes}]"
        dims = "x".join("N" if d < 0 else str(d) for d in self.shape)
        text = f"{self.kind.value} of shape ({dims})"
        if self.min_last:
            text += f" with at least {self.min_last} entries on the last axis"
        if self.index_bound:
            text += f", values in [0, {self.index_bound})"
        return text


@dataclass(frozen=True)
class FileSpec:
    """One file of the data directory, relative to it, with where the real file comes from."""

    path: str
    container: Container
    arrays: tuple[ArraySpec, ...]
    source: str


_README_URL = "https://github.com/HongwenZhang/PyMAF-X#necessary-files"
_README = f"see {_README_URL}"
_FETCH = "run `bash fetch_data.sh` of the PyMAF-X repository in its root"
_SRC_SPIN = f"SPIN data ({_FETCH}: http://visiondata.cis.upenn.edu/spin/data.tar.gz)"
_SRC_SMPL_DS = (
    f"{_FETCH} (https://github.com/nkolot/GraphCMR/raw/master/data/mesh_downsampling.npz,"
    " saved as data/smpl_downsampling.npz)"
)
_SRC_MANO_DS = (
    f"{_FETCH} (https://github.com/microsoft/MeshGraphormer/raw/main/src/modeling/data/"
    "mano_downsampling.npz, saved as data/mano_downsampling.npz)"
)
_SRC_RELEASE = (
    "the PyMAF-X release data (README 'necessary files':"
    f" https://cloud.tsinghua.edu.cn/d/3bc20811a93b488b99a9); {_README}"
)
_SRC_SMPL = (
    "SMPL neutral model: register at https://smpl.is.tue.mpg.de (neutral model"
    " basicModel_neutral_lbs_10_207_0_v1.0.0.pkl, also via https://smplify.is.tue.mpg.de),"
    f" rename to data/smpl/SMPL_NEUTRAL.pkl; {_README}"
)
_SRC_SMPLX = (
    "SMPL-X v1.1: register at https://smpl-x.is.tue.mpg.de, download SMPLX_NEUTRAL_2020.npz"
    f" into data/smpl/; {_README}"
)
_SRC_MANO = (
    "MANO: register at https://mano.is.tue.mpg.de, copy mano_v1_2/models/MANO_RIGHT.pkl"
    f" into data/smpl/; {_README}"
)
_SRC_FLAME = (
    "FLAME 2020: register at https://flame.is.tue.mpg.de, rename generic_model.pkl to"
    f" data/smpl/FLAME2020/FLAME_NEUTRAL.pkl; {_README}"
)
_SRC_FLAME_EMB = (
    "FLAME landmark embeddings (flame_static_embedding.pkl, flame_dynamic_embedding.npy) from"
    " https://flame.is.tue.mpg.de (also in the model/ folder of"
    f" https://github.com/soubhiksanyal/FLAME_PyTorch) into data/smpl/FLAME2020/; {_README}"
)
_SRC_SMPLX_IDS = (
    "SMPL-X download page https://smpl-x.is.tue.mpg.de, item 'MANO and FLAME vertex indices',"
    f" into data/smpl/model_transfer/; {_README}"
)
_SRC_SMPLX_TO_SMPL = (
    "not on the model websites: it comes with the PyMAF-X data as"
    f" data/smpl/model_transfer/smplx_to_smpl.pkl; {_README}"
)

DATA_DIR_HELP = (
    f"the PyMAF-X data/ directory, assembled as described in {_README_URL} (for tests and demos"
    " without the licensed models: pymafx_ros.body_models.placeholder.placeholder_data_dir())"
)

# Mesh sizes of the real models (vertices, faces), fixed by the v1.1 checkpoint buffers.
SMPL_VERTS, SMPL_FACES = 6890, 13776
SMPLX_VERTS, SMPLX_FACES = 10475, 20908
MANO_VERTS, MANO_FACES = 778, 1538
FLAME_VERTS, FLAME_FACES = 5023, 9976


def _f(key: str, *shape: int, min_last: int = 0) -> ArraySpec:
    return ArraySpec(key, Kind.FLOAT, tuple(shape), min_last=min_last)


def _i(key: str, *shape: int, bound: int = 0) -> ArraySpec:
    return ArraySpec(key, Kind.INT, tuple(shape), index_bound=bound)


def _m(key: str, rows: int, cols: int) -> ArraySpec:
    return ArraySpec(key, Kind.MATRIX, (rows, cols))


def _skinned_model(verts: int, faces: int, joints: int, pose_basis: int, shape_min: int):
    """Entries every SMPL-family model file has (smplx reads exactly these)."""
    return (
        _f("v_template", verts, 3),
        _i("f", faces, 3, bound=verts),
        _f("shapedirs", verts, 3, -1, min_last=shape_min),
        _f("posedirs", verts, 3, pose_basis),
        _m("J_regressor", joints, verts),
        _f("weights", verts, joints),
        _i("kintree_table", 2, joints),
    )


LAYOUT: dict[str, FileSpec] = {
    spec.path: spec
    for spec in (
        FileSpec(
            "smpl_mean_params.npz",
            Container.NPZ,
            (_f("pose", 144), _f("shape", 10), _f("cam", 3)),
            _SRC_SPIN,
        ),
        FileSpec("J_regressor_extra.npy", Container.NPY, (_f("", 9, SMPL_VERTS),), _SRC_SPIN),
        FileSpec(
            "smpl_downsampling.npz",
            Container.NPZ,
            (
                ArraySpec("D", Kind.SPARSE_LIST, items=((1723, SMPL_VERTS), (431, 1723))),
                ArraySpec("U", Kind.SPARSE_LIST, items=((SMPL_VERTS, 1723), (1723, 431))),
            ),
            _SRC_SMPL_DS,
        ),
        FileSpec(
            "mano_downsampling.npz",
            Container.NPZ,
            (
                ArraySpec("D", Kind.SPARSE_LIST, items=((195, MANO_VERTS),)),
                ArraySpec("U", Kind.SPARSE_LIST, items=((MANO_VERTS, 195),)),
            ),
            _SRC_MANO_DS,
        ),
        FileSpec(
            "flame_downsampling.npy",
            Container.NPY,
            (_i("", 708, bound=FLAME_VERTS),),
            _SRC_RELEASE,
        ),
        FileSpec(
            "smpl/SMPL_NEUTRAL.pkl",
            Container.PICKLE,
            _skinned_model(SMPL_VERTS, SMPL_FACES, 24, 207, shape_min=10),
            _SRC_SMPL,
        ),
        FileSpec(
            "smpl/SMPLX_NEUTRAL_2020.npz",
            Container.NPZ,
            (
                *_skinned_model(SMPLX_VERTS, SMPLX_FACES, 55, 486, shape_min=400),
                _f("hands_componentsl", 45, 45),
                _f("hands_componentsr", 45, 45),
                _f("hands_meanl", 45),
                _f("hands_meanr", 45),
                _i("lmk_faces_idx", 51, bound=SMPLX_FACES),
                _f("lmk_bary_coords", 51, 3),
                _i("dynamic_lmk_faces_idx", 79, 17, bound=SMPLX_FACES),
                _f("dynamic_lmk_bary_coords", 79, 17, 3),
            ),
            _SRC_SMPLX,
        ),
        FileSpec(
            "smpl/MANO_RIGHT.pkl",
            Container.PICKLE,
            (
                *_skinned_model(MANO_VERTS, MANO_FACES, 16, 135, shape_min=10),
                _f("hands_components", 45, 45),
                _f("hands_mean", 45),
            ),
            _SRC_MANO,
        ),
        FileSpec(
            "smpl/FLAME2020/FLAME_NEUTRAL.pkl",
            Container.PICKLE,
            _skinned_model(FLAME_VERTS, FLAME_FACES, 5, 36, shape_min=400),
            _SRC_FLAME,
        ),
        FileSpec(
            "smpl/FLAME2020/flame_static_embedding.pkl",
            Container.PICKLE,
            (_i("lmk_face_idx", 51, bound=FLAME_FACES), _f("lmk_b_coords", 51, 3)),
            _SRC_FLAME_EMB,
        ),
        FileSpec(
            "smpl/FLAME2020/flame_dynamic_embedding.npy",
            Container.NPY_DICT,
            (_i("lmk_face_idx", 79, 17, bound=FLAME_FACES), _f("lmk_b_coords", 79, 17, 3)),
            _SRC_FLAME_EMB,
        ),
        FileSpec(
            "smpl/model_transfer/smplx_to_smpl.pkl",
            Container.PICKLE,
            (_m("matrix", SMPL_VERTS, SMPLX_VERTS),),
            _SRC_SMPLX_TO_SMPL,
        ),
        FileSpec(
            "smpl/model_transfer/SMPL-X__FLAME_vertex_ids.npy",
            Container.NPY,
            (_i("", FLAME_VERTS, bound=SMPLX_VERTS),),
            _SRC_SMPLX_IDS,
        ),
        FileSpec(
            "smpl/model_transfer/MANO_SMPLX_vertex_ids.pkl",
            Container.PICKLE,
            (
                _i("left_hand", MANO_VERTS, bound=SMPLX_VERTS),
                _i("right_hand", MANO_VERTS, bound=SMPLX_VERTS),
            ),
            _SRC_SMPLX_IDS,
        ),
        FileSpec(
            "partial_mesh/smpl_lhand_vids.npz",
            Container.NPZ,
            (_i("vids", MANO_VERTS, bound=SMPL_VERTS),),
            _SRC_RELEASE,
        ),
        FileSpec(
            "partial_mesh/smpl_rhand_vids.npz",
            Container.NPZ,
            (_i("vids", MANO_VERTS, bound=SMPL_VERTS),),
            _SRC_RELEASE,
        ),
    )
}

# The 329 MB dense matrix is read last so that a broken small file fails fast.
LOAD_ORDER: tuple[str, ...] = tuple(
    sorted(LAYOUT, key=lambda p: p == "smpl/model_transfer/smplx_to_smpl.pkl")
)
