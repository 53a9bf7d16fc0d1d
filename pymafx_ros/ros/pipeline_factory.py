"""What the node builds its pipeline from: the parameters as PipelineConfig options, the file
check that refuses a broken model before the node starts, and the (slow) real build.

Heavy imports (torch, the model) happen inside the functions, so a node refused for its
parameters or files never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymafx_ros.ros.parameters import NodeParameters

PipelineFactory = Callable[[dict[str, Any]], Any]


class StartupError(ValueError):
    """The node cannot start with these files or parameters (exit code 2)."""


def pipeline_options(params: NodeParameters) -> dict[str, Any]:
    """The node parameters as PipelineConfig keyword arguments."""
    wants_mesh = params.markers_mesh_decimation > 0.0 and (
        params.markers_enable or params.overlay_enable
    )
    return {
        "data_dir": params.data_dir or None,
        "checkpoint": params.checkpoint or None,
        "detector": params.detector,
        "max_people": params.max_people,
        "min_person_score": params.min_person_score,
        "default_fov_deg": params.default_fov_deg,
        "with_vertices": wants_mesh,
        "device": params.device,
        "num_threads": params.num_threads,
        "backend": params.backend,
        "precision": params.precision,
        "build_engines_on_start": params.build_engines_on_start,
        "tracking": params.tracking,
    }


def check_model_files(params: NodeParameters) -> None:
    """Validate the data directory and checkpoint the parameters name (each file's content,
    keys and shapes; the checkpoint memory-mapped), raising StartupError that names every
    broken file, what is wrong and where the right one comes from. Placeholders: nothing."""
    if not (params.data_dir or params.checkpoint):
        return
    from pymafx_ros.pipeline.model_files import ModelFilesError, require_model_files

    try:
        require_model_files(params.data_dir or None, params.checkpoint or None)
    except ModelFilesError as err:
        raise StartupError(
            f"broken model files (check them with `pymafx-ros check`):\n{err}"
        ) from None


def is_file_error(exc: BaseException) -> bool:
    """True for a load failure caused by a model file (bad content, missing, unreadable)."""
    from pymafx_ros.body_models.errors import AssetError
    from pymafx_ros.model.checkpoint import CheckpointError

    return isinstance(exc, AssetError | CheckpointError | OSError)


def load_pipeline(options: dict[str, Any], model_loader: Any = None) -> Any:
    """Build the real pipeline (imported here: torch and the model load in the worker thread).
    The pipeline resolves ``device: auto`` (CUDA when torch sees it) and handles GPU failures.
    ``model_loader`` replaces the pipeline's (the offline batch reuses one model across bags)."""
    from pymafx_ros.pipeline.pipeline import Pipeline, PipelineConfig
    from pymafx_ros.tracking.people import TrackingConfig

    tracking = TrackingConfig.from_dict(options.get("tracking", {}))
    return Pipeline(PipelineConfig(**{**options, "tracking": tracking}), model_loader=model_loader)
