"""Build the PyMAF-X model for the pipeline and describe it as a ``ModelInfo``.

Placeholder assets or weights make every pose meaningless; that is logged loudly with where the
real files go, and carried in every result.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from pymafx_ros.pipeline.result import ModelInfo
from pymafx_ros.pipeline.skeleton import SMPLX_JOINT_NAMES, SMPLX_PARENTS

if TYPE_CHECKING:
    from pymafx_ros.pipeline.pipeline import PipelineConfig, Predictor

LOG = logging.getLogger(__name__)

NUM_BETAS = 10
NUM_EXPRESSION_COEFFS = 50

_REAL_ASSETS_HINT = (
    "pass data_dir (CLI --data) pointing at a PyMAF-X data/ directory with the licensed "
    "SMPL-X/MANO/FLAME files (see the README, 'Assets')"
)
_REAL_WEIGHTS_HINT = (
    "pass checkpoint (CLI --checkpoint) with the released PyMAF-X v1.1 checkpoint "
    "(see the README, 'Assets')"
)


def load_model(config: PipelineConfig) -> tuple[Predictor, ModelInfo]:
    """Build the model on ``config.device`` in eval mode; return its final-output predictor
    (``PyMAFX.predict``: skips decoding the unused initial mesh) and its ``ModelInfo``."""
    from pymafx_ros.model.factory import build_model

    model, info = build_model(
        data_dir=config.data_dir,
        checkpoint=config.checkpoint,
        seed=config.seed,
        device=config.device,
    )
    model_info = describe_model(info)
    warn_if_placeholder(model_info)
    return model.predict, model_info


def describe_model(info: Any) -> ModelInfo:
    """``ModelInfo`` from what ``build_model`` reports about its assets and weights."""
    faces = np.asarray(info.faces, dtype=np.int64)
    return ModelInfo(
        joint_names=SMPLX_JOINT_NAMES,
        joint_parents=SMPLX_PARENTS,
        faces=faces,
        num_vertices=int(info.num_vertices),
        num_betas=NUM_BETAS,
        num_expression_coeffs=NUM_EXPRESSION_COEFFS,
        assets_source=str(info.assets_source),
        weights_source=str(info.weights_source),
        placeholder_assets=bool(info.placeholder_assets),
        placeholder_weights=bool(info.placeholder_weights),
    )


def warn_if_placeholder(info: ModelInfo) -> None:
    """Log a WARNING for placeholder assets/weights, saying where the real files go."""
    if info.placeholder_assets:
        LOG.warning(
            "PLACEHOLDER body-model assets in use (fake geometry, poses are meaningless): %s; "
            "for real results %s",
            info.assets_source,
            _REAL_ASSETS_HINT,
        )
    if info.placeholder_weights:
        LOG.warning(
            "PLACEHOLDER network weights in use (seeded random, poses are meaningless): %s; "
            "for real results %s",
            info.weights_source,
            _REAL_WEIGHTS_HINT,
        )
