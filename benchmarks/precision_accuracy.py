"""What bf16 and int8 cost in accuracy: SMPL-X joints and vertices of a backend in a reduced
precision against the same backend in fp32, in millimetres (placeholder assets, seeded stand-in
weights: trained weights may amplify rounding differently, so the figures do not predict the
cost on the real checkpoint; ``pymafx-ros calibrate`` measures that one).

    python benchmarks/precision_accuracy.py [--backend openvino --backend torch]
        [--precision bf16 --precision int8] [--threads 2]

Inputs: the vendored parity fixture's crops (noise images, one hand hidden as in the fixture),
and the people MediaPipe finds on photos that ship inside installed packages (scikit-image's
astronaut and cameraman, matplotlib's Grace Hopper), both hands forced visible so that all three
experts run in the reduced precision. int8 (openvino only) uses the built-in calibration set,
which is cut from these same photos: its photo figures are in-sample, the fixture's are not.
Per backend, precision and input one JSON line: mean / max over people of the per-point
distances for the 55 kinematic joints and the 10475 vertices (model frame, metres -> mm), and
the largest difference of the body camera scale (relative). A pair this CPU or backend cannot
run prints a line saying why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.precision_cost import CostMeter
from pymafx_ros.backends.selection import choose_backend, create_backend
from pymafx_ros.frontend import create_detector
from pymafx_ros.model.factory import build_model
from pymafx_ros.pipeline.calibration import calibration_for, photos
from pymafx_ros.pipeline.crops import crop_uint8, normalise_crops

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "parity_seed0.npz"
PARTS = ("body", "left_hand", "right_hand", "face")


def photo_inputs() -> dict[str, tuple[list[torch.Tensor], dict[str, torch.Tensor]]]:
    """Crops of every person MediaPipe finds on each photo, both hands marked visible."""
    detector = create_detector("mediapipe", max_people=3, min_score=0.5)
    inputs = {}
    try:
        for name, rgb in photos().items():
            people = detector.detect(np.ascontiguousarray(rgb))
            if not people:
                print(json.dumps({"input": name, "note": "MediaPipe found nobody"}), flush=True)
                continue
            boxes = [(b.cx, b.cy, b.size) for p in PARTS for b in (getattr(q, p) for q in people)]
            crops = normalise_crops(crop_uint8(rgb, np.array(boxes)), torch.device("cpu"))
            vis = torch.full((len(people),), 0.9)
            inputs[name] = (list(crops.split(len(people))), {"vis_lhand": vis, "vis_rhand": vis})
    finally:
        detector.close()
    return inputs


def fixture_inputs() -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    with np.load(FIXTURE) as arrays:
        crops = [
            torch.from_numpy(arrays[f"in_img_{p}"]) for p in ("body", "lhand", "rhand", "face")
        ]
        vis = {k: torch.from_numpy(arrays[f"in_{k}"]) for k in ("vis_lhand", "vis_rhand")}
    return crops, vis


def _outputs(backend_name: str, precision: str, inputs: dict, threads: int, cpu) -> dict:
    model, _ = build_model()
    options = BackendOptions(
        backend_name, precision, num_threads=threads, cpu=cpu, calibration=calibration_for
    )
    backend = create_backend(model, options)
    return {
        key: backend.predict(*crops, **vis, profile="mesh").as_dict()
        for key, (crops, vis) in inputs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="backends (openvino, torch)")
    parser.add_argument("--precision", action="append", help="precisions (bf16, int8)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = detect_cpu_features()
    inputs = {"parity fixture (noise crops)": fixture_inputs(), **photo_inputs()}
    for name in args.backend or ["openvino", "torch"]:
        reference = None
        for precision in args.precision or ["bf16", "int8"]:
            try:
                choose_backend(name, precision, "cpu", cpu)
            except BackendUnavailableError as error:
                print(json.dumps({"backend": name, "precision": precision, "note": str(error)}))
                continue
            reference = reference or _outputs(name, "fp32", inputs, args.threads, cpu)
            results = _outputs(name, precision, inputs, args.threads, cpu)
            for key in inputs:
                test, fp32 = results[key], reference[key]
                meter = CostMeter()
                meter.add(test, fp32)
                scale = (test["pred_cam"][:, 0] / fp32["pred_cam"][:, 0] - 1).abs().max()
                record = {
                    "backend": name,
                    "precision": precision,
                    "input": key,
                    **meter.summary(),
                    "cam_scale_rel_max": round(float(scale), 6),
                    "cpu": cpu.describe(),
                }
                print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
