"""What every backend offers: ``PyMAFX.predict``'s call on the same inputs, run by some engine.

A backend takes the four crop batches (ImageNet-normalised [B,3,224,224] body, left hand as
cropped, right hand, face) and optional detector hand confidences [B], and returns the final
``mesh_out`` as a ``BackendOutput`` (torch tensors, the release's names), for an output
*profile* (``model.output_profile``: ``joints``, ``mesh`` or ``release``, the same name
``PyMAFX.predict`` takes).

Hands at or below the visibility gate skip the hand expert unless ``run_hidden_hands``. Crops
given as None leave their expert out (the ``experts`` option): no hand crops run no hand (both
hands not visible), no face crops run no face encoder (the initial, neutral face; see
``model.face_expert``).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.names import PROFILE_NAMES
from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.config import PRECISIONS

Tensors = dict[str, torch.Tensor]


def check_profile(profile: str) -> str:
    """``profile`` when it names an output profile; ValueError otherwise."""
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, got {profile!r}")
    return profile


class Backend(ABC):
    """A way of running PyMAF-X. ``name`` and ``precision`` say which; ``cpu`` is what the
    machine offered when it was chosen."""

    name: str = ""
    # Why this backend runs instead of the one asked for ('' when it is the one asked for).
    fallback: str = ""
    # How ``precision: auto`` chose this precision where it timed candidates ('' otherwise).
    auto_precision: str = ""

    def __init__(self, precision: str, cpu: CpuFeatures) -> None:
        if precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
            )
        self.precision = precision
        self.cpu = cpu

    @abstractmethod
    def prepare(self, profile: str) -> None:
        """Build or load everything ``predict`` needs for ``profile`` (minutes on a first start
        for exported backends, then seconds), so that the first frame is not slow."""

    def release_model(self) -> None:  # noqa: B027 - a no-op unless the engine copies weights
        """Free the torch model when the backend no longer needs it (after ``prepare``): the
        exported engines hold their own copy of the weights. The torch backend keeps it."""

    @abstractmethod
    def predict(
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor | None,
        img_rhand: torch.Tensor | None,
        img_face: torch.Tensor | None,
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        profile: str = "joints",
        run_hidden_hands: bool = False,
    ) -> BackendOutput:
        """The final ``mesh_out`` for ``profile`` (see the module doc)."""

    def predictor(self, profile: str) -> Callable[..., BackendOutput]:
        """``predict`` bound to a profile: the pipeline's model callable."""
        return functools.partial(self.predict, profile=check_profile(profile))

    def describe(self) -> dict[str, str]:
        """Backend, precision and CPU facts, for logs and diagnostics (and ``fallback``: why
        this backend runs instead of the one asked for, when it does; ``precision_auto``: the
        timings and choice of ``precision: auto``, when it timed candidates)."""
        values = {
            "backend": self.name,
            "precision": self.precision,
            "cpu": self.cpu.describe(),
            "native_bf16": str(self.cpu.native_bf16).lower(),
            "native_int8": str(self.cpu.native_int8).lower(),
        }
        if self.fallback:
            values["fallback"] = self.fallback
        if self.auto_precision:
            values["precision_auto"] = self.auto_precision
        return values
