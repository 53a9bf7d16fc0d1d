"""Where the pipeline's resident memory goes: RSS (psutil) after each loading step, after a
warm-up on a 640x480 frame with two people, and after stamp resets (a bag played in a loop).

Steps, in the order the node loads (``pipeline.model_loading.load_model``): imports; the torch
model built; the numpy SMPL-X kept for the published values (``body_forward``); the backend
opened (ONNX programs loaded, OpenVINO models compiled or loaded from their cache); the torch
model released; freed heap pages handed back (``malloc_trim``); the MediaPipe front end and the
first frames (``warm-up``: --warmup frames with people, the engines' per-shape buffers); then
--resets loops of three frames whose stamps start again at the same value each loop.

Prints one line per step (RSS, change, what it is), then one JSON line with every figure, the
sizes of what the steps hold (weights in the torch model, the body model arrays, the cached
programs on disk) and the CPU. Placeholder assets and seeded weights unless --data and
--checkpoint are given (they are the same size).

    source scripts/env.sh
    python benchmarks/memory_breakdown.py --backend openvino --precision fp32 [--max-people 2] \
        [--vertices]   # the mesh too, as the node with its default markers
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pymafx_ros.pipeline.memory import (  # noqa: E402 - after the path set-up
    peak_resident_mb,
    resident_mb,
    return_freed_memory,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backend", default="openvino")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-people", type=int, default=2)
    parser.add_argument(
        "--vertices",
        action="store_true",
        help="the mesh too, as the node with its default markers (the mesh head, skinning data)",
    )
    parser.add_argument("--warmup", type=int, default=6, help="frames before 'after warm-up'")
    parser.add_argument("--resets", type=int, default=10, help="loops of three frames")
    parser.add_argument("--data", default=None, help="PyMAF-X data/ (default: placeholders)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint (default: placeholders)")
    return parser.parse_args()


class Steps:
    """RSS after each step, printed as it goes."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        self._last = resident_mb()

    def mark(self, step: str, note: str = "") -> None:
        now = resident_mb()
        change, self._last = now - self._last, now
        self.records.append({"step": step, "rss_mb": round(now), "change_mb": round(change)})
        print(f"{now:8.0f} MB {change:+7.0f}  {step}{'  (' + note + ')' if note else ''}")
        sys.stdout.flush()


def array_mb(*arrays: np.ndarray | None) -> float:
    return sum(a.nbytes for a in arrays if a is not None) / 2**20


def body_forward_mb(body: object) -> float:
    """Bytes of the numpy SMPL-X arrays kept for the published values."""
    total = array_mb(body.joint_template, body.joint_dirs)
    for rows in (body.fingertips, body.mesh):
        if rows is not None:
            total += array_mb(*(getattr(rows, f.name) for f in dataclasses.fields(rows)))
    return total


def folder_mb(folders: list[Path]) -> float:
    return sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file()) / 2**20


def two_people_frames() -> list[np.ndarray]:
    """Three 640x480 frames, each with the astronaut twice (one mirrored), moving a little."""
    import cv2
    from skimage import data

    person = cv2.resize(np.ascontiguousarray(data.astronaut()), (320, 320))
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[80:400, :320], frame[80:400, 320:] = person, person[:, ::-1]
    return [np.ascontiguousarray(np.roll(frame, 4 * i, axis=1)) for i in range(3)]


def main() -> None:
    args = parse_args()
    steps = Steps()
    steps.mark("python", "interpreter and this script")
    import cv2  # noqa: F401 - counted as an import
    import mediapipe  # noqa: F401
    import torch

    from pymafx_ros.backends.cpu_features import detect_cpu_features
    from pymafx_ros.backends.options import BackendOptions
    from pymafx_ros.backends.selection import open_backend
    from pymafx_ros.config import PipelineConfig
    from pymafx_ros.model.factory import build_model
    from pymafx_ros.pipeline.model_loading import describe_model, model_body, pipeline_profile
    from pymafx_ros.pipeline.pipeline import Pipeline
    from pymafx_ros.tools.check import cpu_flags

    if args.backend in ("openvino", "onnxruntime"):
        __import__(args.backend)
    torch.set_num_threads(args.threads)
    steps.mark("imports", f"torch, cv2, mediapipe, {args.backend}")

    config = PipelineConfig(
        backend=args.backend,
        precision=args.precision,
        max_people=args.max_people,
        num_threads=args.threads,
        data_dir=args.data,
        checkpoint=args.checkpoint,
        device="cpu",
        with_vertices=args.vertices,
    )
    model, info = build_model(data_dir=args.data, checkpoint=args.checkpoint, device="cpu")
    weights = sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 2**20
    steps.mark("torch model built", f"its weights and buffers: {weights:.0f} MB")

    body = model_body(model, config.with_vertices)
    steps.mark("body model (numpy) kept", f"{body_forward_mb(body):.1f} MB of arrays")

    profile = pipeline_profile(config.with_vertices)
    options = BackendOptions(
        backend=args.backend, precision=args.precision, device="cpu", num_threads=args.threads
    )
    start = time.perf_counter()
    backend = open_backend(model, profile, options)
    programs = [program.path.parent for _, program in getattr(backend, "_runners", {}).values()]
    steps.mark(
        "backend opened",
        f"{backend.name} {backend.precision} in {time.perf_counter() - start:.0f} s; "
        f"cached ONNX programs {folder_mb(programs):.0f} MB on disk",
    )

    del model
    backend.release_model()
    gc.collect()
    steps.mark("torch model released", "gc; glibc keeps the freed pages")
    trimmed = return_freed_memory()
    steps.mark("freed memory returned", "malloc_trim" if trimmed else "no malloc_trim here")

    described = dataclasses.replace(describe_model(info, backend.describe()), body=body)
    pipeline = Pipeline(config, model=backend.predictor(profile), model_info=described)
    frames = two_people_frames()
    pipeline.process(frames[0], timestamp_ms=1000)
    steps.mark("front end created, first frame", "MediaPipe video graphs, packed weights")
    for index in range(1, args.warmup):
        pipeline.process(frames[index % 3], timestamp_ms=1000 + 33 * index)
    steps.mark("after warm-up", f"{args.warmup} video frames")
    warm = resident_mb()
    for _ in range(args.resets):
        for index, frame in enumerate(frames):
            result = pipeline.process(frame, timestamp_ms=1000 + 33 * index)
    last = f"people in the last frame: {len(result.people)}"
    steps.mark(f"after {args.resets} stamp resets", last)
    grown = resident_mb() - warm
    pipeline.close()

    cpu, _ = cpu_flags()
    summary = {
        "backend": backend.name,
        "precision": backend.precision,
        "max_people": args.max_people,
        "with_vertices": args.vertices,
        "threads": args.threads,
        "steps": steps.records,
        "torch_weights_mb": round(weights),
        "body_forward_mb": round(body_forward_mb(body), 1),
        "rss_after_warmup_mb": round(warm),
        "growth_over_resets_mb": round(grown),
        "peak_rss_mb": round(peak_resident_mb()),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX", "default"),
        "cpu": cpu,
        "cpu_features": detect_cpu_features().describe(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
