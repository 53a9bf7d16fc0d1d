"""The SMPL body model kept inside each PyMAF-X regressor (checkpoint ``regressor.*.body_model``).

PyMAF-X uses it for the kinematic chain of the wrist integration and stores its buffers in the
checkpoint; building it here keeps every asset-derived buffer in one place.
"""

from __future__ import annotations

import smplx
import torch
from smplx.lbs import vertices2joints
from smplx.utils import Struct

from .assets import PyMafxAssets
from .smplx_factory import quietly, skinned_arrays


def build_smpl_body_model(assets: PyMafxAssets) -> smplx.SMPL:
    """smplx SMPL without learnable parameters, plus the ``J_regressor_extra`` [9, 6890] and
    ``tpose_joints`` [1, 24, 3] buffers; its state dict matches ``regressor.N.body_model.*``."""
    model = quietly(
        lambda: smplx.SMPL(
            model_path="",
            data_struct=Struct(**skinned_arrays(assets.smpl)),
            create_betas=False,
            create_global_orient=False,
            create_body_pose=False,
            create_transl=False,
            batch_size=64,
        )
    )
    model.register_buffer("J_regressor_extra", torch.tensor(assets.J_regressor_extra))
    model.register_buffer(
        "tpose_joints", vertices2joints(model.J_regressor, model.v_template.unsqueeze(0))
    )
    return model
