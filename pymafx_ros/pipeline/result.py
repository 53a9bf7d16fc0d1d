"""What the pipeline returns for one frame: its people with timings and track quality, and the
model's description for consumers (joint tree, mesh topology, provenance, backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.tracking.quality import TrackQuality

if TYPE_CHECKING:
    from pymafx_ros.pipeline.body_forward import BodyForward


@dataclass
class FrameResult:
    """Everything the pipeline found in one image, with per-stage wall-clock timings (ms)."""

    people: list[PersonResult]
    intrinsics: Intrinsics
    image_width: int
    image_height: int
    placeholder_assets: bool
    placeholder_weights: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    # People dropped because the network produced non-finite values for them.
    dropped_non_finite: int = 0
    smoothing: bool = False  # temporal filtering was on (people carry their own ``smoothed``)
    # Per live track: jitter before/after the filter and its delay (tracking.people).
    tracks: list[TrackQuality] = field(default_factory=list)


@dataclass(frozen=True)
class ModelInfo:
    """What a consumer needs to interpret people: joint names/tree, mesh topology, provenance."""

    joint_names: tuple[str, ...]  # 55 SMPL-X kinematic joints
    joint_parents: tuple[int, ...]  # -1 for the root
    faces: np.ndarray  # (F, 3) int, SMPL-X triangles
    num_vertices: int
    num_betas: int
    num_expression_coeffs: int
    assets_source: str
    weights_source: str
    placeholder_assets: bool
    placeholder_weights: bool
    # How the model runs: backend, precision, CPU model and flags (``Backend.describe()``).
    backend: dict[str, str] = field(default_factory=dict)
    # What the pipeline keeps of the loaded SMPL-X to compute every published value from the
    # (filtered) parameters; None (injected test models): the model's values are published.
    body: BodyForward | None = field(default=None, repr=False, compare=False)
