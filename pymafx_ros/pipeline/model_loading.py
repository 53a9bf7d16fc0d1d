"""Build the PyMAF-X model for the pipeline and describe it as a ``ModelInfo``.

Placeholder assets or weights make every pose meaningless: ``build_model`` logs that loudly with
where the real files go, and every result carries the two flags.

The model runs in a backend (``pymafx_ros.backends``). The release evaluates SMPL-X without the
predicted expression (its wrapper drops it; the face expert's expression only shapes its FLAME
mesh). The pipeline publishes that expression as an SMPL-X parameter, so its backend profiles
apply it in the final SMPL-X evaluation: then the published parameters reproduce the published
joints and vertices, and the face moves. The network's own feedback loop is untouched.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from pymafx_ros.geometry.skeleton import SMPLX_JOINT_NAMES, SMPLX_PARENTS
from pymafx_ros.pipeline.body_forward import BodyForward
from pymafx_ros.pipeline.memory import return_freed_memory
from pymafx_ros.pipeline.result import ModelInfo

if TYPE_CHECKING:
    from pymafx_ros.backends.output import BackendOutput
    from pymafx_ros.config import PipelineConfig
    from pymafx_ros.model.factory import ModelBuildInfo
    from pymafx_ros.model.pymafx_net import PyMAFX

# The model's prediction: four (B, 3, 224, 224) image batches (body, left hand, right hand,
# face) and optional hand visibilities vis_lhand/vis_rhand (B,) -> their ``BackendOutput``.
Predictor = Callable[..., "BackendOutput"]
# Builds the model for a config (on config.device): the pipeline's own is ``load_model``.
ModelLoader = Callable[["PipelineConfig"], tuple[Predictor, ModelInfo]]

NUM_BETAS = 10
NUM_EXPRESSION_COEFFS = 50


def pipeline_profile(with_vertices: bool) -> str:
    """The backend output profile the pipeline needs: the SMPL-X mesh only with vertices."""
    return "mesh" if with_vertices else "joints"


def load_model(config: PipelineConfig) -> tuple[Predictor, ModelInfo]:
    """Build the model on ``config.device`` and wrap it in the configured backend
    (``backends.open_backend``: eager torch, ONNX Runtime, OpenVINO or TensorRT, ``auto``
    rules, logged); prepare what the pipeline calls (joints only, or the mesh too with
    ``with_vertices``) so the first frame is not slow. Exported backends build their cached
    programs on a first start (minutes, logged with timings) and load them in seconds
    afterwards; TensorRT engines are built ahead of time (or with ``build_engines_on_start``),
    and without one the next backend runs, with a WARN naming the build command."""
    from pymafx_ros.backends.cpu_features import detect_cpu_features
    from pymafx_ros.backends.options import BackendOptions
    from pymafx_ros.backends.selection import choose_backend, open_backend
    from pymafx_ros.backends.tensorrt.options import EngineOptions
    from pymafx_ros.model.factory import build_model
    from pymafx_ros.pipeline.calibration import calibration_for

    # A backend/precision this machine cannot run fails here, before the model is built (the
    # names themselves were checked by the config; open_backend resolves the same choice).
    choose_backend(config.backend, config.precision, config.device, detect_cpu_features())
    model, info = build_model(
        data_dir=config.data_dir,
        checkpoint=config.checkpoint,
        seed=config.seed,
        device=config.device,
    )
    engines = EngineOptions(
        max_people=config.max_people,
        build=config.build_engines_on_start,
        data_dir=config.data_dir,
        checkpoint=config.checkpoint,
    )
    profile = pipeline_profile(config.with_vertices)
    body = model_body(model, config.with_vertices)
    options = BackendOptions(
        backend=config.backend,
        precision=config.precision,
        device=config.device,
        num_threads=config.num_threads,
        engines=engines,
        calibration=calibration_for,
    )
    backend = open_backend(model, profile, options)
    del model  # an exported engine holds its own weights: the torch copy (~1 GB) can go
    backend.release_model()
    # What building and exporting freed (over a gigabyte) stays resident unless handed back.
    gc.collect()
    return_freed_memory()
    # Which experts run is the pipeline's choice (it crops only theirs), reported with the rest.
    facts = {**backend.describe(), "experts": config.experts}
    described = dataclasses.replace(describe_model(info, facts), body=body)
    return backend.predictor(profile), described


def model_body(model: PyMAFX, with_vertices: bool) -> BodyForward:
    """What the pipeline keeps of the model's SMPL-X to recompute every published value from
    the (filtered) parameters; the whole mesh's skinning data only ``with_vertices``."""
    return BodyForward.from_smplx_layer(model.body_models.smplx_layer, with_mesh=with_vertices)


def describe_model(info: ModelBuildInfo, backend: dict[str, str] | None = None) -> ModelInfo:
    """``ModelInfo`` from what ``build_model`` reports about its assets and weights, and what
    ``Backend.describe()`` reports about how it runs."""
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
        backend=dict(backend or {}),
    )
