"""The eager model as the pipeline calls a backend: tests that want the real network without
a backend's export (the torch backend wraps the same call)."""

from __future__ import annotations

import torch

from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.model.pymafx_net import PyMAFX
from pymafx_ros.pipeline.model_loading import Predictor, pipeline_profile


def model_predictor(model: PyMAFX, with_vertices: bool = False) -> Predictor:
    """Eager ``PyMAFX.predict`` as the pipeline calls it (the model as given, e.g. as loaded),
    returning a ``BackendOutput`` like a backend: predicted expression in the final SMPL-X, the
    mesh only ``with_vertices``."""
    profile = pipeline_profile(with_vertices)

    def predict(*crops: torch.Tensor, **visibility: torch.Tensor) -> BackendOutput:
        return BackendOutput.from_mesh(model.predict(*crops, **visibility, profile=profile))

    return predict
