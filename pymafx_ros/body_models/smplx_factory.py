"""Build the smplx SMPL-X / MANO / FLAME layers from validated arrays, with the official flags.

smplx's SMPL-X and FLAME constructors always open files themselves (with unrestricted pickle /
``allow_pickle=True``), so they are given sanitized copies written by this module: plain numeric
.npz/.npy files plus one pickle of two numeric arrays, kept in a content-keyed cache folder and
checked before smplx reads them. MANO takes the arrays directly (``data_struct``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import smplx
from smplx.utils import Struct

from .assets import LandmarkEmbedding, PyMafxAssets, SkinnedModel
from .cache import arrays_sha256, materialised_dir, plain_numpy_files_only
from .safe_pickle import restricted_load

_LOG = logging.getLogger(__name__)
_Layer = TypeVar("_Layer")

# Flags of the official v1.1 full-body configuration (models/smpl.py, pymafx_config.yaml).
SMPLX_NUM_BETAS = 10
NUM_EXPRESSION_COEFFS = 50
FLAME_NUM_BETAS = 100


def skinned_arrays(model: SkinnedModel) -> dict[str, np.ndarray]:
    """The arrays under the key names smplx reads from model files."""
    joints = np.arange(model.parents.shape[0], dtype=np.int64)
    return {
        "v_template": model.v_template,
        "f": model.faces,
        "shapedirs": model.shapedirs,
        "posedirs": model.posedirs,
        "J_regressor": model.J_regressor,
        "weights": model.weights,
        "kintree_table": np.stack([model.parents, joints]),
    }


def _smplx_arrays(assets: PyMafxAssets) -> dict[str, np.ndarray]:
    lmk: LandmarkEmbedding = assets.smplx_landmarks
    return {
        **skinned_arrays(assets.smplx),
        "hands_componentsl": assets.smplx_left_hand.components,
        "hands_componentsr": assets.smplx_right_hand.components,
        "hands_meanl": assets.smplx_left_hand.mean,
        "hands_meanr": assets.smplx_right_hand.mean,
        "lmk_faces_idx": lmk.faces_idx,
        "lmk_bary_coords": lmk.bary_coords,
        "dynamic_lmk_faces_idx": lmk.dynamic_faces_idx,
        "dynamic_lmk_bary_coords": lmk.dynamic_bary_coords,
    }


def _contour_record(lmk: LandmarkEmbedding) -> np.ndarray:
    """FLAME contour embedding as a 0-d structured array: smplx indexes it like the dict the
    real file pickles, but it needs no pickle."""
    dtype = np.dtype(
        [
            ("lmk_face_idx", np.int64, lmk.dynamic_faces_idx.shape),
            ("lmk_b_coords", np.float32, lmk.dynamic_bary_coords.shape),
        ]
    )
    record = np.zeros((), dtype=dtype)
    record["lmk_face_idx"] = lmk.dynamic_faces_idx
    record["lmk_b_coords"] = lmk.dynamic_bary_coords
    return record


def quietly(build: Callable[[], _Layer]) -> _Layer:
    """Run a smplx constructor, sending its stdout notes (e.g. the MANO 10-betas warning) to
    the debug log instead of the console."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        layer = build()
    if captured.getvalue().strip():
        _LOG.debug("smplx: %s", captured.getvalue().strip())
    return layer


def row_major_pose_blend(layer: _Layer) -> _Layer:
    """Store ``posedirs`` row-major. smplx keeps it as a transposed view, so the per-call
    [B,P] x [P,3V] product reads it with stride P: twice slower on CPU (61 MB for SMPL-X)."""
    layer.posedirs = layer.posedirs.contiguous()
    return layer


def build_smplx_layer(assets: PyMafxAssets) -> smplx.SMPLXLayer:
    """SMPL-X layer as ``SMPLX_ALL`` builds it: 10 betas, 50 expressions, face contour on,
    no hand PCA, non-flat hand mean (unused by the layer's forward)."""
    arrays = _smplx_arrays(assets)
    name = f"smplx-{arrays_sha256(arrays)[:32]}"
    with materialised_dir(name, lambda d: np.savez(d / "SMPLX_NEUTRAL.npz", **arrays)) as folder:
        plain_numpy_files_only(folder)
        layer = quietly(
            lambda: smplx.SMPLXLayer(
                model_path=str(folder / "SMPLX_NEUTRAL.npz"),
                gender="neutral",
                ext="npz",
                num_betas=SMPLX_NUM_BETAS,
                num_expression_coeffs=NUM_EXPRESSION_COEFFS,
                use_pca=False,
                num_pca_comps=45,
                flat_hand_mean=False,
                use_face_contour=True,
                batch_size=1,
            )
        )
    return row_major_pose_blend(layer)


def _write_flame_folder(folder: Path, assets: PyMafxAssets) -> None:
    lmk = assets.flame_landmarks
    np.savez(folder / "FLAME_NEUTRAL.npz", **skinned_arrays(assets.flame))
    np.save(folder / "flame_dynamic_embedding.npy", _contour_record(lmk), allow_pickle=False)
    static = {"lmk_face_idx": lmk.faces_idx, "lmk_b_coords": lmk.bary_coords}
    with (folder / "flame_static_embedding.pkl").open("wb") as stream:
        pickle.dump(static, stream, protocol=4)


def build_flame_layer(assets: PyMafxAssets) -> smplx.FLAMELayer:
    """FLAME layer as the official full-body model builds it: 100 betas, 50 expressions,
    face contour on."""
    lmk = assets.flame_landmarks
    key = arrays_sha256(
        {
            **skinned_arrays(assets.flame),
            "static_idx": lmk.faces_idx,
            "static_bary": lmk.bary_coords,
            "dynamic_idx": lmk.dynamic_faces_idx,
            "dynamic_bary": lmk.dynamic_bary_coords,
        }
    )
    with materialised_dir(f"flame-{key[:32]}", lambda d: _write_flame_folder(d, assets)) as folder:
        plain_numpy_files_only(folder)
        with (folder / "flame_static_embedding.pkl").open("rb") as stream:
            restricted_load(stream)  # smplx unpickles it unrestricted: prove it is arrays only
        layer = quietly(
            lambda: smplx.FLAMELayer(
                model_path=str(folder),
                gender="neutral",
                ext="npz",
                num_betas=FLAME_NUM_BETAS,
                num_expression_coeffs=NUM_EXPRESSION_COEFFS,
                use_face_contour=True,
                batch_size=1,
            )
        )
    return row_major_pose_blend(layer)


def build_mano_layer(assets: PyMafxAssets) -> smplx.MANOLayer:
    """Right-hand MANO layer as the official code builds it (no PCA, 10 betas); both hands go
    through it, the left one in its mirrored frame."""
    data = Struct(
        **skinned_arrays(assets.mano),
        hands_components=assets.mano_hand.components,
        hands_mean=assets.mano_hand.mean,
    )
    layer = quietly(
        lambda: smplx.MANOLayer(
            model_path="",
            data_struct=data,
            is_rhand=True,
            use_pca=False,
            flat_hand_mean=False,
            num_betas=10,
            batch_size=1,
        )
    )
    return row_major_pose_blend(layer)
