"""Build a ready-to-run PyMAF-X model from a data directory and an optional checkpoint.

Without a data directory the vendored placeholder assets are used; without a checkpoint the
seeded stand-in weights. Either makes every pose meaningless, so both are logged as WARNINGs
that say where the real files go, and reported in the returned ``ModelBuildInfo``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pymafx_ros.body_models.assets import load_assets
from pymafx_ros.body_models.placeholder import placeholder_data_dir
from pymafx_ros.model.checkpoint import EXPECTED_FILE, load_checkpoint
from pymafx_ros.model.pymafx_net import PyMAFX
from pymafx_ros.model.seeded_weights import apply_seeded_weights

LOG = logging.getLogger(__name__)

STATE_DICT_TABLE = Path(__file__).parent / "data" / "pymafx_v1.1_state_dict.tsv"
REAL_ASSETS_HINT = (
    "put the PyMAF-X data/ directory (licensed SMPL, SMPL-X, MANO, FLAME files and the "
    "release's mesh/mean files, see the README 'Assets') somewhere and pass it as data_dir"
)
REAL_WEIGHTS_HINT = f"download {EXPECTED_FILE} and pass it as checkpoint"


@dataclass(frozen=True)
class ModelBuildInfo:
    """What a built model runs on: asset/weight provenance and SMPL-X mesh facts."""

    placeholder_assets: bool
    placeholder_weights: bool
    assets_source: str
    weights_source: str
    faces: np.ndarray  # (20908, 3) int64 SMPL-X triangles
    num_vertices: int
    data_dir: Path
    checkpoint: Path | None
    seed: int | None


def build_model(
    data_dir: Path | None = None,
    checkpoint: Path | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    table: Path = STATE_DICT_TABLE,
) -> tuple[PyMAFX, ModelBuildInfo]:
    """PyMAF-X in eval mode on ``device``: assets from ``data_dir`` (placeholder if None),
    weights from ``checkpoint`` (strict) or, if None, the seeded recipe with ``seed``."""
    data_dir = Path(data_dir) if data_dir is not None else placeholder_data_dir()
    assets = load_assets(data_dir)
    model = PyMAFX(assets)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
        weights_source = f"checkpoint {Path(checkpoint).resolve()}"
    else:
        apply_seeded_weights(model, table, seed)
        weights_source = f"PLACEHOLDER seeded weights (seed {seed}, recipe of {table.name})"
    model.eval().to(device)
    info = ModelBuildInfo(
        placeholder_assets=assets.is_placeholder,
        placeholder_weights=checkpoint is None,
        assets_source=assets.provenance,
        weights_source=weights_source,
        faces=np.asarray(assets.smplx.faces, dtype=np.int64),
        num_vertices=int(assets.smplx.v_template.shape[0]),
        data_dir=assets.data_dir,
        checkpoint=Path(checkpoint).resolve() if checkpoint is not None else None,
        seed=None if checkpoint is not None else seed,
    )
    if info.placeholder_assets:
        LOG.warning(
            "Body-model assets are placeholders, every result is meaningless (%s). "
            "For real results %s.",
            info.assets_source,
            REAL_ASSETS_HINT,
        )
    if info.placeholder_weights:
        LOG.warning(
            "Network weights are placeholders, every result is meaningless (%s). "
            "For real results %s.",
            info.weights_source,
            REAL_WEIGHTS_HINT,
        )
    return model, info
