"""Calibration sets for int8 encoders, and the record of which set (and measured cost) belongs to
which weights.

A ``CalibrationSet`` is the crops each encoder sees, as the front end cut them (uint8
[N,224,224,3]; hands as the hand encoder sees them, left hands mirrored), with the pipeline's
own normalisation; its ``digest`` keys the quantized artefacts, so the same crops give the same
artefact and other crops another. Sets are stored under ``<cache>/calibration/`` as
``<weights>-<digest>/crops.npz`` with ``record.json`` beside it (source, frames, the cost
against fp32 in mm that ``pymafx-ros calibrate`` measured); ``active-<weights>.json`` names the
set the node uses for those weights. Without one the built-in default set is used, whose cost
on these weights is unknown until measured.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pymafx_ros.storage import cache_root, write_file_atomic, write_text_atomic

LOG = logging.getLogger(__name__)

CALIBRATED_PARTS = ("body", "hand", "face")
CROPS_FILE = "crops.npz"
RECORD_FILE = "record.json"
# uint8 crops [N,224,224,3] -> the encoder's input [N,3,224,224] float32.
Normaliser = Callable[[np.ndarray], np.ndarray]


def default_calibration_dir() -> Path:
    """``<cache root>/calibration``."""
    return cache_root() / "calibration"


@dataclass(frozen=True)
class CalibrationSet:
    """Crops per encoder part (``CALIBRATED_PARTS``), uint8 [N,224,224,3], ``normalise`` turning
    them into the encoder's input, and where they came from (for logs and records)."""

    crops: Mapping[str, np.ndarray]
    normalise: Normaliser = field(compare=False)
    source: str = ""

    def __post_init__(self) -> None:
        for part in CALIBRATED_PARTS:
            array = self.crops.get(part)
            if array is None or array.dtype != np.uint8 or array.ndim != 4 or len(array) == 0:
                raise ValueError(
                    f"calibration set ({self.source}): {part} crops must be a non-empty uint8 "
                    f"[N,224,224,3] array, got {None if array is None else array.shape}"
                )

    @property
    def digest(self) -> str:
        """SHA-256 (first 16 hex digits) of every part's crops (names, shapes and bytes)."""
        digest = hashlib.sha256()
        for part in CALIBRATED_PARTS:
            array = np.ascontiguousarray(self.crops[part])
            digest.update(f"{part}|{array.dtype}|{array.shape}|".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()[:16]

    def inputs(self, part: str) -> list[np.ndarray]:
        """One normalised [1,3,224,224] float32 input per crop of ``part``, in order."""
        return [self.normalise(crop[None]) for crop in self.crops[part]]

    def counts(self) -> dict[str, int]:
        return {part: len(self.crops[part]) for part in CALIBRATED_PARTS}

    def spread(self, most: int) -> CalibrationSet:
        """At most ``most`` crops per part, spread evenly over each (in order): a smaller set,
        with its own digest, that quantizes faster."""
        if most < 1:
            raise ValueError(f"a calibration set needs at least 1 crop per part, not {most}")
        crops = {}
        for part in CALIBRATED_PARTS:
            array = self.crops[part]
            picks = np.unique(np.linspace(0, len(array) - 1, min(most, len(array))).round())
            crops[part] = array[picks.astype(int)]
        return CalibrationSet(crops, self.normalise, self.source)


# (weights fingerprint) -> the calibration set the int8 encoders of those weights use.
CalibrationProvider = Callable[[str], CalibrationSet]


class CalibrationStore:
    """Calibration sets and their records under ``root`` (default: ``<cache>/calibration``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_calibration_dir()

    def folder(self, weights: str, digest: str) -> Path:
        return self.root / f"{weights}-{digest}"

    def save(
        self, weights: str, calibration: CalibrationSet, record: Mapping[str, object]
    ) -> Path:
        """Store ``calibration`` and its ``record`` (cost, frames...) for ``weights`` and make it
        the active set for those weights; returns its folder."""
        folder = self.folder(weights, calibration.digest)
        write_file_atomic(
            folder / CROPS_FILE,
            lambda stream: np.savez(stream, **{p: calibration.crops[p] for p in CALIBRATED_PARTS}),
        )
        full = {
            "weights": weights,
            "calibration": calibration.digest,
            "source": calibration.source,
            "crops": calibration.counts(),
            **record,
        }
        write_text_atomic(folder / RECORD_FILE, json.dumps(full, indent=1))
        write_text_atomic(self._active(weights), json.dumps({"folder": folder.name}))
        return folder

    def _active(self, weights: str) -> Path:
        return self.root / f"active-{weights}.json"

    def active_folder(self, weights: str) -> Path | None:
        """The folder of the active set for ``weights`` (None: none recorded, or unreadable)."""
        try:
            name = json.loads(self._active(weights).read_text())["folder"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            LOG.warning("ignoring an unreadable calibration record for %s: %s", weights, error)
            return None
        folder = self.root / str(name)
        if not (folder / CROPS_FILE).is_file():
            LOG.warning("the active calibration %s is missing: using the default set", folder)
            return None
        return folder

    def active_record(self, weights: str) -> dict[str, object] | None:
        """The record (source, cost in mm against fp32...) of the active set for ``weights``."""
        folder = self.active_folder(weights)
        if folder is None:
            return None
        try:
            return json.loads((folder / RECORD_FILE).read_text())
        except (OSError, ValueError) as error:
            LOG.warning("ignoring an unreadable calibration record %s: %s", folder, error)
            return None

    def load_active(self, weights: str, normalise: Normaliser) -> CalibrationSet | None:
        """The active set for ``weights`` (None when there is none)."""
        folder = self.active_folder(weights)
        if folder is None:
            return None
        record = self.active_record(weights) or {}
        with np.load(folder / CROPS_FILE) as arrays:
            crops = {part: arrays[part] for part in CALIBRATED_PARTS}
        return CalibrationSet(crops, normalise, str(record.get("source", folder.name)))
