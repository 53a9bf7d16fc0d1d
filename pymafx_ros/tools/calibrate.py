"""``pymafx-ros calibrate``: int8 encoders calibrated on your frames with your weights, and what
they cost against fp32.

The front end (MediaPipe) cuts crops from the frames of ``--frames`` (a video or a folder of
images); every ``--held-out-every``-th frame is held out, the others calibrate. NNCF quantizes
the three encoders of the model built from ``--data`` / ``--checkpoint`` (the node's files:
quantization depends on the weights, so calibrate with the checkpoint the node loads); the
quantized encoders are cached like every other artefact, keyed by the weights and the crops'
digest. The held-out frames then run through OpenVINO in fp32 and in int8, both hands forced
visible, and the distances are printed: joints (55) and vertices, mean and max in mm. The set and
that cost are recorded for these weights (``<cache>/calibration``): the node's ``int8`` then
quantizes with this set, and ``precision: auto`` reads the cost.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pymafx_ros.backends.calibration import CalibrationSet, CalibrationStore
from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.export.source import library_versions
from pymafx_ros.backends.openvino_backend import OpenVinoBackend
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.precision_cost import CostMeter
from pymafx_ros.backends.selection import choose_backend, create_backend
from pymafx_ros.frontend import create_detector
from pymafx_ros.frontend.types import PersonDetector
from pymafx_ros.model.factory import build_model
from pymafx_ros.pipeline.calibration import (
    BOX_VARIANTS,
    MAX_PEOPLE,
    cut_calibration_crops,
    normalise,
    person_crops,
)
from pymafx_ros.pipeline.crops import normalise_crops
from pymafx_ros.tools.process import InputError, open_input

LOG = logging.getLogger(__name__)

# Fewer calibration frames than this: every box in all BOX_VARIANTS (more crops); else as cut.
FEW_FRAMES = 30


def split_frames(
    frames: list[np.ndarray], held_out_every: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(calibration, held-out): every ``held_out_every``-th frame (the last of each group) is
    held out, deterministically."""
    if held_out_every < 2:
        raise ValueError(f"--held-out-every must be 2 or more, got {held_out_every}")
    held = [f for i, f in enumerate(frames) if i % held_out_every == held_out_every - 1]
    calibration = [f for i, f in enumerate(frames) if i % held_out_every != held_out_every - 1]
    if not held or not calibration:
        raise InputError(
            f"{len(frames)} frame(s) cannot be split into calibration and held-out frames "
            f"(every {held_out_every}th is held out): give at least {held_out_every} frames"
        )
    return calibration, held


def read_frames(path: Path, max_frames: int) -> list[np.ndarray]:
    """Up to ``max_frames`` RGB frames of a video or folder, spread evenly over it (the first
    ones of a video that does not say its length); only the picked frames are kept."""
    if max_frames < 2:
        raise ValueError(f"--max-frames must be 2 or more, got {max_frames}")
    source = open_input(path)
    count = source.frame_count or max_frames
    picks = set(np.linspace(0, count - 1, min(count, max_frames)).round().astype(int).tolist())
    frames = []
    for index, (_, rgb) in enumerate(source.frames()):
        if index in picks:
            frames.append(rgb)
        if len(frames) == len(picks):
            break
    return frames


def held_out_cost(
    frames: list[np.ndarray], detector: PersonDetector, fp32: Any, int8: Any
) -> dict[str, float | int]:
    """int8 against fp32 on the people found on ``frames`` (all experts run)."""
    meter = CostMeter()
    for rgb in frames:
        people = detector.detect(np.ascontiguousarray(rgb))[:MAX_PEOPLE]
        if not people:
            continue
        crops = person_crops(rgb, people, BOX_VARIANTS[:1])
        images = [
            normalise_crops(crops[part]) for part in ("body", "left_hand", "right_hand", "face")
        ]
        vis = torch.full((len(people),), 0.9)
        outputs = [
            backend.predict(*images, vis_lhand=vis, vis_rhand=vis, profile="mesh").as_dict()
            for backend in (int8, fp32)
        ]
        meter.add(*outputs)
    if not meter.people:
        raise InputError("the front end found nobody on the held-out frames: nothing to measure")
    return meter.summary()


def calibrate(args: argparse.Namespace) -> dict[str, Any]:
    """Cut, quantize, measure and record; returns the record (also written to the cache)."""
    frames = read_frames(args.frames, args.max_frames)
    calibration_frames, held = split_frames(frames, args.held_out_every)
    cpu = detect_cpu_features()
    choose_backend("openvino", "int8", "cpu", cpu)  # refuses a CPU without int8 dot products
    variants = BOX_VARIANTS if len(calibration_frames) < FEW_FRAMES else BOX_VARIANTS[:1]
    detector = create_detector("mediapipe", max_people=MAX_PEOPLE, min_score=0.5)
    try:
        try:
            crops = cut_calibration_crops(calibration_frames, detector, variants)
        except ValueError as error:
            raise InputError(f"{args.frames}: {error}") from error
        source = f"pymafx-ros calibrate {args.frames}"
        calibration = CalibrationSet(crops, normalise, source).spread(args.max_crops)
        model, _ = build_model(args.data, args.checkpoint)
        options = BackendOptions("openvino", "fp32", num_threads=args.threads, cpu=cpu)
        fp32 = create_backend(model, options)
        int8 = create_backend(
            model, replace(options, precision="int8", calibration=lambda _weights: calibration)
        )
        for backend in (fp32, int8):
            backend.prepare("mesh")
        cost = held_out_cost(held, detector, fp32, int8)
    finally:
        detector.close()
    assert isinstance(int8, OpenVinoBackend)
    weights = int8.source.inputs["weights"]
    record = {
        "frames": str(args.frames),
        "calibration_frames": len(calibration_frames),
        "held_out_frames": len(held),
        "cost_vs_fp32": cost,
        "cpu": cpu.describe(),
        **library_versions("openvino", "nncf"),
    }
    folder = CalibrationStore().save(weights, calibration, record)
    return {"weights": weights, "calibration": calibration.digest, "record": str(folder), **record}


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    record = calibrate(args)
    cost = record["cost_vs_fp32"]
    print(json.dumps(record, indent=1))
    print(
        f"int8 against fp32 on {record['held_out_frames']} held-out frames ({cost['people']} "
        f"people): joints {cost['joints_mm_mean']} mm mean, {cost['joints_mm_max']} mm max; "
        f"vertices {cost['vertices_mm_mean']} mm mean, {cost['vertices_mm_max']} mm max. "
        f"Recorded as the int8 calibration of weights {record['weights']}."
    )
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate the int8 encoders on your frames and weights; print the cost in mm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--frames", type=Path, required=True, help="video file or folder of images (RGB)"
    )
    parser.add_argument("--data", type=Path, help="PyMAF-X data/ folder (default: placeholder)")
    parser.add_argument("--checkpoint", type=Path, help="v1.1 checkpoint (default: placeholder)")
    parser.add_argument(
        "--max-frames", type=int, default=200, help="frames read, spread evenly (default 200)"
    )
    parser.add_argument(
        "--held-out-every",
        type=int,
        default=4,
        help="hold out every Nth frame to measure the cost (default 4)",
    )
    parser.add_argument(
        "--max-crops",
        type=int,
        default=300,
        help="most calibration crops per encoder, spread over the frames (default 300; fewer "
        "quantize faster)",
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.set_defaults(run=run)
