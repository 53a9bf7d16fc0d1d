"""Test doubles shared by the pipeline and ROS tests: the placeholder SMPL-X file, the smplx layer
a message consumer would build on it, and the ModelInfo a model on it reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import smplx

from pymafx_ros.body_models.placeholder import placeholder_data_dir
from pymafx_ros.geometry.skeleton import SMPLX_JOINT_NAMES, SMPLX_PARENTS
from pymafx_ros.pipeline.body_forward import BodyForward
from pymafx_ros.pipeline.result import ModelInfo

# How a consumer evaluates published parameters: axis-angle, full hand poses, no hand mean.
SMPLX_FLAGS = dict(
    gender="neutral",
    use_pca=False,
    flat_hand_mean=True,
    num_betas=10,
    num_expression_coeffs=50,
    use_face_contour=True,
)


def placeholder_smplx_file() -> Path:
    """The vendored placeholder ``SMPLX_NEUTRAL_2020.npz``."""
    return placeholder_data_dir() / "smpl" / "SMPLX_NEUTRAL_2020.npz"


def placeholder_smplx(batch_size: int = 1) -> smplx.SMPLX:
    """The smplx layer a message consumer would build (placeholder SMPL-X file)."""
    return smplx.SMPLX(str(placeholder_smplx_file()), batch_size=batch_size, **SMPLX_FLAGS)


def placeholder_model_info(placeholder: bool = True, with_body: bool = True) -> ModelInfo:
    """What a model on the placeholder SMPL-X reports; ``placeholder`` sets both flags;
    ``with_body`` keeps the SMPL-X data the pipeline recomputes joints with (as load_model)."""
    with np.load(placeholder_smplx_file()) as model:
        faces = model["f"].astype(np.int64)
        num_vertices = int(model["v_template"].shape[0])
    return ModelInfo(
        joint_names=SMPLX_JOINT_NAMES,
        joint_parents=SMPLX_PARENTS,
        faces=faces,
        num_vertices=num_vertices,
        num_betas=10,
        num_expression_coeffs=50,
        assets_source="placeholder (test)",
        weights_source="test double",
        placeholder_assets=placeholder,
        placeholder_weights=placeholder,
        body=BodyForward.from_smplx_layer(placeholder_smplx_layer()) if with_body else None,
    )


def placeholder_smplx_layer() -> smplx.SMPLXLayer:
    """SMPL-X as the model evaluates it (placeholder file): rotation matrices in, no hand mean."""
    return smplx.SMPLXLayer(
        str(placeholder_smplx_file()),
        num_betas=10,
        num_expression_coeffs=50,
        use_face_contour=True,
    )
