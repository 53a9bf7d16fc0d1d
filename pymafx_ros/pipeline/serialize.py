"""Results as JSON-ready dictionaries (plain lists and numbers), e.g. one file per frame."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.pipeline.result import FrameResult


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, Box):
        return {"x0": value.x0, "y0": value.y0, "x1": value.x1, "y1": value.y1}
    return value


def person_to_dict(person: PersonResult) -> dict[str, Any]:
    """Every ``PersonResult`` field by name except ``vertices`` (too large for JSON)."""
    return {
        f.name: _plain(getattr(person, f.name))
        for f in dataclasses.fields(person)
        if f.name != "vertices"
    }


def intrinsics_to_dict(intrinsics: Intrinsics) -> dict[str, Any]:
    return dataclasses.asdict(intrinsics)


def frame_to_dict(result: FrameResult, **extra: Any) -> dict[str, Any]:
    """The frame's people, intrinsics, image size, timings and provenance flags, plus ``extra``."""
    return {
        **extra,
        "image_width": result.image_width,
        "image_height": result.image_height,
        "intrinsics": intrinsics_to_dict(result.intrinsics),
        "placeholder_assets": result.placeholder_assets,
        "placeholder_weights": result.placeholder_weights,
        "timings_ms": dict(result.timings_ms),
        "dropped_non_finite": result.dropped_non_finite,
        "smoothing": result.smoothing,
        "tracks": [dataclasses.asdict(track) for track in result.tracks],
        "people": [person_to_dict(p) for p in result.people],
    }
