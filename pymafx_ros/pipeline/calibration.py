"""Calibration crops for the int8 encoders, cut by the real front end as the pipeline cuts them.

The built-in set comes from photos of people inside installed packages (scikit-image's
astronaut and cameraman, matplotlib's Grace Hopper) and their mirror images, each box also
scaled and shifted a little (``BOX_VARIANTS``): a few dozen crops per encoder, in a fixed order,
cached after the first build. ``pymafx-ros calibrate`` cuts a user's set from their frames
(``tools/calibrate.py``); ``calibration_for`` gives the set recorded for the loaded weights, or
the built-in one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from pymafx_ros.backends.calibration import CalibrationSet, CalibrationStore
from pymafx_ros.backends.export.source import library_versions
from pymafx_ros.frontend import create_detector
from pymafx_ros.frontend.types import PersonDetection, PersonDetector
from pymafx_ros.pipeline.crops import crop_uint8, normalise_crops
from pymafx_ros.storage import write_file_atomic

LOG = logging.getLogger(__name__)

PARTS = ("body", "left_hand", "right_hand", "face")
# (scale, shift as a fraction of the box side along x and y) of each box: the crops a tracker's
# slightly-off boxes give, so the activation ranges cover them.
BOX_VARIANTS = ((1.0, 0.0), (0.9, 0.0), (1.15, 0.0), (1.0, 0.08), (1.0, -0.08), (0.9, 0.06))
DEFAULT_SOURCE = "built-in photos (astronaut, cameraman, grace_hopper and mirrors)"
# Up to this many people per frame (the built-in photos show one each).
MAX_PEOPLE = 3


def photos() -> dict[str, np.ndarray]:
    """RGB uint8 photos of people shipped inside installed packages."""
    import matplotlib.cbook
    from skimage import data

    hopper = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    gray = data.camera()
    return {
        "astronaut (skimage)": data.astronaut(),
        "cameraman (skimage)": np.stack([gray] * 3, axis=-1),
        "grace_hopper (matplotlib)": cv2.cvtColor(cv2.imread(str(hopper)), cv2.COLOR_BGR2RGB),
    }


def normalise(crops: np.ndarray) -> np.ndarray:
    """uint8 [N,224,224,3] -> [N,3,224,224] float32, exactly as the pipeline feeds the model."""
    return normalise_crops(crops, torch.device("cpu")).numpy()


def person_crops(
    rgb: np.ndarray, people: list[PersonDetection], variants: Iterable[tuple[float, float]]
) -> dict[str, np.ndarray]:
    """uint8 [N,224,224,3] crops per part in ``PARTS`` for every person and box variant
    (person-major), left hands as cut (not mirrored)."""
    variants = tuple(variants)
    out = {}
    for part in PARTS:
        boxes = [
            (box.cx + shift * box.size, box.cy + shift * box.size, box.size * scale)
            for person in people
            for box in (getattr(person, part),)
            for scale, shift in variants
        ]
        out[part] = crop_uint8(rgb, np.array(boxes, dtype=np.float64))
    return out


def encoder_crops(crops: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The crops each encoder sees: body, hand (right hands, then left ones mirrored as the
    hand expert takes them), face."""
    hands = np.concatenate([crops["right_hand"], crops["left_hand"][:, :, ::-1]])
    return {"body": crops["body"], "hand": np.ascontiguousarray(hands), "face": crops["face"]}


def cut_calibration_crops(
    frames: Iterable[np.ndarray],
    detector: PersonDetector,
    variants: Iterable[tuple[float, float]] = BOX_VARIANTS,
) -> dict[str, np.ndarray]:
    """Encoder crops (``encoder_crops``) of every person the detector finds on ``frames``
    (RGB uint8), each box in every variant; frames with nobody add nothing."""
    variants = tuple(variants)
    collected: dict[str, list[np.ndarray]] = {"body": [], "hand": [], "face": []}
    for rgb in frames:
        people = detector.detect(np.ascontiguousarray(rgb))[:MAX_PEOPLE]
        if not people:
            continue
        for part, crops in encoder_crops(person_crops(rgb, people, variants)).items():
            collected[part].append(crops)
    if not collected["body"]:
        raise ValueError("the front end found nobody on any calibration frame")
    return {part: np.concatenate(arrays) for part, arrays in collected.items()}


def _default_key() -> str:
    """What the built-in set depends on: this module, the detector's and photos' packages."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    versions = library_versions(
        "mediapipe", "opencv-python-headless", "scikit-image", "matplotlib"
    )
    digest.update(repr(sorted(versions.items())).encode())
    return digest.hexdigest()[:16]


def default_calibration(store: CalibrationStore | None = None) -> CalibrationSet:
    """The built-in set: MediaPipe's people on ``photos()`` and their mirror images, every box
    in ``BOX_VARIANTS``; built once (seconds) and then read from the cache."""
    store = store or CalibrationStore()
    path = store.root / f"default-{_default_key()}.npz"
    if path.is_file():
        with np.load(path) as arrays:
            crops = {part: arrays[part] for part in ("body", "hand", "face")}
        return CalibrationSet(crops, normalise, DEFAULT_SOURCE)
    frames = [image for rgb in photos().values() for image in (rgb, rgb[:, ::-1])]
    detector = create_detector("mediapipe", max_people=MAX_PEOPLE, min_score=0.5)
    try:
        crops = cut_calibration_crops(frames, detector)
    finally:
        detector.close()
    write_file_atomic(path, lambda stream: np.savez(stream, **crops))
    LOG.info("built-in int8 calibration set: %s crops, cached in %s", _counts(crops), path)
    return CalibrationSet(crops, normalise, DEFAULT_SOURCE)


def _counts(crops: dict[str, np.ndarray]) -> str:
    return ", ".join(f"{len(array)} {part}" for part, array in crops.items())


def calibration_for(weights: str, store: CalibrationStore | None = None) -> CalibrationSet:
    """The calibration set of the weights with fingerprint ``weights``: the one
    ``pymafx-ros calibrate`` recorded for them, else the built-in set."""
    store = store or CalibrationStore()
    recorded = store.load_active(weights, normalise)
    if recorded is not None:
        LOG.info("int8 calibration for weights %s: %s", weights, recorded.source)
        return recorded
    LOG.info("int8 calibration for weights %s: the built-in set (no recorded one)", weights)
    return default_calibration(store)
