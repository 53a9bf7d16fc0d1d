"""Per-stage latency of the pipeline on 640x480 frames with 1 and 3 people (CPU by default).

Frames are built from ``skimage.data.astronaut()`` (shipped with scikit-image): one astronaut
filling the frame, or three side by side. The front end is timed on every frame; when it finds
fewer people than the case asks for, the other stages run on fixed boxes around the copies so
that they always see the requested batch. Prints one JSON line per case with the minimum,
median and 90th percentile of each stage in milliseconds (on a shared machine the minimum is
the least disturbed figure), frames per second (1000 / median total) and the backend,
precision and CPU. MediaPipe sees no hand of the astronaut (both are out of the picture), so
the hand expert is skipped as in real use; ``--hands-visible`` makes both hands visible to
time the model's worst case.

    python benchmarks/pipeline_cpu.py [--backend auto] [--precision fp32] [--repeats 5]
        [--threads 2] [--device cpu] [--with-vertices] [--hands-visible]
        [--experts body,hands,face]

``--experts body,hands`` leaves the face expert out (``body`` the hands too), as the node's
``experts`` parameter does.

Placeholder weights time exactly like real ones (same network).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import cv2
import numpy as np
import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.config import BACKEND_CHOICES, EXPERT_SETS, PRECISION_CHOICES, PipelineConfig
from pymafx_ros.frontend import PersonDetection, create_detector
from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.pipeline.pipeline import Pipeline

WIDTH, HEIGHT = 640, 480
STAGES = ("frontend", "tracking", "crops", "model", "lift", "total")


def astronaut_frame(people: int) -> tuple[np.ndarray, list[PersonDetection]]:
    """A 640x480 RGB frame with ``people`` astronauts side by side, and boxes around each."""
    from skimage import data

    photo = data.astronaut()[:, 60:452]  # 512 x 392: the person and a little background
    slot = WIDTH // people
    height = min(HEIGHT, round(photo.shape[0] * slot / photo.shape[1]))
    width = round(photo.shape[1] * height / photo.shape[0])
    copy = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
    frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    boxes = []
    for index in range(people):
        x0 = index * slot + (slot - width) // 2
        y0 = HEIGHT - height
        frame[y0:, x0 : x0 + width] = copy
        body = PartBox(x0 + width / 2, y0 + height / 2, 1.2 * max(width, height))
        parts = default_parts(body)
        boxes.append(PersonDetection(1.0, body, **parts, vis_lhand=0.5, vis_rhand=0.5, vis_face=1))
    return frame, boxes


def measure(
    pipeline: Pipeline, people: int, repeats: int, hands_visible: bool
) -> dict[str, object]:
    """Time ``repeats`` frames (after one warm-up) for one head count."""
    frame, fallback = astronaut_frame(people)
    detector = create_detector("mediapipe", max_people=people, min_score=0.5)
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    found_counts = []
    try:
        for index in range(repeats + 1):
            start = time.perf_counter()
            found = detector.detect(frame, timestamp_ms=index * 33)
            frontend_ms = (time.perf_counter() - start) * 1e3
            found_counts.append(len(found))
            boxes = found if len(found) >= people else fallback
            if hands_visible:
                boxes = [dataclasses.replace(b, vis_lhand=0.9, vis_rhand=0.9) for b in boxes]
            result = pipeline.process(frame, boxes=boxes[:people])
            if index == 0:
                continue  # warm-up: graph creation, first-call allocations
            timings = dict(result.timings_ms, frontend=frontend_ms)
            timings["total"] = result.timings_ms["total"] - result.timings_ms["frontend"]
            timings["total"] += frontend_ms
            for stage in STAGES:
                samples[stage].append(timings[stage])
    finally:
        detector.close()
    summary = {
        stage: {
            "min_ms": round(float(np.min(v)), 2),
            "median_ms": round(float(np.median(v)), 2),
            "p90_ms": round(float(np.percentile(v, 90)), 2),
        }
        for stage, v in samples.items()
    }
    return {
        "people": people,
        "frame": f"{WIDTH}x{HEIGHT}",
        "front_end_found": max(found_counts),
        "hands_visible": "forced" if hands_visible else "as detected",
        "repeats": repeats,
        "frames_per_s": round(1000.0 / summary["total"]["median_ms"], 2),
        "stages": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    parser.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES)
    parser.add_argument("--with-vertices", action="store_true", help="the SMPL-X mesh too")
    parser.add_argument("--hands-visible", action="store_true", help="force both hands visible")
    parser.add_argument("--experts", default=EXPERT_SETS[0], choices=EXPERT_SETS)
    args = parser.parse_args()
    config = PipelineConfig(
        detector="external",
        device=args.device,
        num_threads=args.threads,
        max_people=3,
        backend=args.backend,
        precision=args.precision,
        with_vertices=args.with_vertices,
        experts=args.experts,
    )
    pipeline = Pipeline(config)
    backend = pipeline.model_info.backend
    cpu = detect_cpu_features()
    context = {
        "backend": backend.get("backend"),
        "precision": backend.get("precision"),
        "experts": args.experts,
        "with_vertices": args.with_vertices,
        "cpu": cpu.model,
        "cpu_flags": " ".join(cpu.reported_flags()),
        "device": args.device,
        "threads": args.threads,
        "torch": torch.__version__,
    }
    try:
        for people in (1, 3):
            record = measure(pipeline, people, args.repeats, args.hands_visible)
            print(json.dumps({**record, **context}), flush=True)
    finally:
        pipeline.close()


if __name__ == "__main__":
    main()
