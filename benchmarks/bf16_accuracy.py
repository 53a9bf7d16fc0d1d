"""What bf16 costs in accuracy: SMPL-X joints and vertices of the bf16 backends against the same
backend in fp32, in millimetres (placeholder assets, seeded stand-in weights: trained weights
may amplify rounding differently, so treat the figures as an indication).

    python benchmarks/bf16_accuracy.py [--backend openvino --backend torch] [--threads 2]

Inputs: the vendored parity fixture's crops (noise images, one hand hidden as in the fixture),
and the people MediaPipe finds on photos that ship inside installed packages (scikit-image's
astronaut and cameraman, matplotlib's Grace Hopper), both hands forced visible so that all three
experts run in bf16. Per backend and input one JSON line: mean / max over people of the
per-point distances for the 55 kinematic joints and the 10475 vertices (model frame, metres ->
mm), and the largest difference of the body camera scale (relative).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
import torch
from skimage import data

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import create_backend
from pymafx_ros.frontend import create_detector
from pymafx_ros.model.factory import build_model
from pymafx_ros.pipeline.crops import crop_uint8, normalise_crops

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "parity_seed0.npz"
PARTS = ("body", "left_hand", "right_hand", "face")


def photos() -> dict[str, np.ndarray]:
    """RGB uint8 photos of people shipped inside installed packages."""
    hopper = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    gray = data.camera()
    return {
        "astronaut (skimage)": data.astronaut(),
        "cameraman (skimage)": np.stack([gray] * 3, axis=-1),
        "grace_hopper (matplotlib)": cv2.cvtColor(cv2.imread(str(hopper)), cv2.COLOR_BGR2RGB),
    }


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


def _mm(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    distance = torch.linalg.vector_norm(a - b, dim=-1) * 1000.0
    return round(float(distance.mean()), 3), round(float(distance.max()), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="bf16 backends (openvino, torch)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = detect_cpu_features()
    inputs = {"parity fixture (noise crops)": fixture_inputs(), **photo_inputs()}
    for name in args.backend or ["openvino", "torch"]:
        results = {}
        for precision in ("fp32", "bf16"):
            model, _ = build_model()
            options = BackendOptions(name, precision, num_threads=args.threads, cpu=cpu)
            backend = create_backend(model, options)
            results[precision] = {
                key: backend.predict(*crops, **vis, profile="mesh").as_dict()
                for key, (crops, vis) in inputs.items()
            }
            del backend, model
        for key in inputs:
            fp32, bf16 = results["fp32"][key], results["bf16"][key]
            joints = _mm(bf16["smplx_joints"][:, :55], fp32["smplx_joints"][:, :55])
            vertices = _mm(bf16["smplx_verts"], fp32["smplx_verts"])
            scale = (bf16["pred_cam"][:, 0] / fp32["pred_cam"][:, 0] - 1).abs().max()
            record = {
                "backend": name,
                "input": key,
                "people": int(fp32["pred_cam"].shape[0]),
                "joints_mm_mean": joints[0],
                "joints_mm_max": joints[1],
                "vertices_mm_mean": vertices[0],
                "vertices_mm_max": vertices[1],
                "cam_scale_rel_max": round(float(scale), 6),
                "cpu": cpu.describe(),
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
