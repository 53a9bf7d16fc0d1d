"""What the node builds its pipeline from: the typed PipelineConfig of its parameters, the file
check that refuses a broken model before the node starts, and the (slow) real build.

Heavy imports (torch, the model) happen inside the functions, so a node refused for its
parameters or files never pays for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pymafx_ros.config import NodeConfig, PipelineConfig

PipelineFactory = Callable[[PipelineConfig], Any]


class StartupError(ValueError):
    """The node cannot start with these files or parameters (exit code 2)."""


def pipeline_config(params: NodeConfig) -> PipelineConfig:
    """The node's pipeline options, with vertices only when a mesh is drawn somewhere."""
    output = params.output
    wants_mesh = output.markers_mesh_decimation > 0.0 and (
        output.markers_enable or output.overlay_enable
    )
    return dataclasses.replace(params.pipeline, with_vertices=wants_mesh)


def check_model_files(config: PipelineConfig) -> None:
    """Validate the data directory and checkpoint the parameters name (each file's content,
    keys and shapes; the checkpoint memory-mapped), raising StartupError that names every
    broken file, what is wrong and where the right one comes from. Placeholders: nothing."""
    if not (config.data_dir or config.checkpoint):
        return
    from pymafx_ros.pipeline.model_files import ModelFilesError, require_model_files

    try:
        require_model_files(config.data_dir, config.checkpoint)
    except ModelFilesError as err:
        raise StartupError(
            f"broken model files (check them with `pymafx-ros check`):\n{err}"
        ) from None


def is_file_error(exc: BaseException) -> bool:
    """True for a load failure caused by a model file (bad content, missing, unreadable)."""
    from pymafx_ros.body_models.errors import AssetError
    from pymafx_ros.model.checkpoint import CheckpointError

    return isinstance(exc, AssetError | CheckpointError | OSError)


def load_pipeline(config: PipelineConfig) -> Any:
    """Build the real pipeline (imported here: torch and the model load in the worker thread).
    The pipeline resolves ``device: auto`` (CUDA when torch sees it) and handles GPU failures."""
    from pymafx_ros.pipeline.pipeline import Pipeline

    return Pipeline(config)
