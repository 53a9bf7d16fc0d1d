"""Frames per second and latency of the pipeline on 640x480 frames with 1 and 3 people (CPU
by default), its two stages one after the other and overlapped, in the same run.

Frames are built from ``skimage.data.astronaut()`` (shipped with scikit-image): one astronaut
filling the frame, or three side by side. A stand-in camera puts the frame into a newest-frame
slot at ``--camera-hz``; the stages run as in the node (``pipeline.overlap``: the front end, here
MediaPipe, of the next frame beside the model, started just in time; or serial). When the
front end finds fewer people than the case asks for, the model runs on fixed boxes around the
copies so that it always sees the requested batch. Prints one JSON line per case and mode:
``frames_per_s`` = timed frames over the wall time they took, the latency from the camera's
capture to the end of the model stage (p50/p95), the stages' minimum, median and 90th
percentile in milliseconds (on a shared machine the minimum is the least disturbed figure),
the model's idle time, and the backend, precision, threads and CPU. MediaPipe sees no hand of
the astronaut (both are out of the picture), so the hand expert is skipped as in real use;
``--hands-visible`` makes both hands visible to time the model's worst case.

    python benchmarks/pipeline_cpu.py [--backend auto] [--precision fp32] [--repeats 12]
        [--threads 2] [--device cpu] [--with-vertices] [--hands-visible] [--camera-hz 30]
        [--experts body,hands,face]

``--experts body,hands`` leaves the face expert out (``body`` the hands too), as the node's
``experts`` parameter does.

Placeholder weights time exactly like real ones (same network).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
import time

import cv2
import numpy as np
import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.config import BACKEND_CHOICES, EXPERT_SETS, PRECISION_CHOICES, PipelineConfig
from pymafx_ros.frontend import PersonDetection, create_detector
from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.pipeline.frame_slot import NewestFrameSlot
from pymafx_ros.pipeline.overlap import TwoStages
from pymafx_ros.pipeline.pipeline import FrontEndFrame, Pipeline

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


class Camera:
    """Puts (frame, capture time) into a newest-frame slot at ``rate_hz`` until stopped."""

    def __init__(self, frame: np.ndarray, rate_hz: float) -> None:
        self.slot: NewestFrameSlot[tuple[int, float]] = NewestFrameSlot()
        self.frame, self.period_s = frame, 1.0 / rate_hz
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera")

    def _run(self) -> None:
        index, next_at = 0, time.perf_counter()
        while not self._stop.is_set():
            self.slot.put((index, time.perf_counter()))
            index += 1
            next_at += self.period_s
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def __enter__(self) -> Camera:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self.slot.close()


def stream(
    pipeline: Pipeline,
    people: int,
    frames: int,
    hands_visible: bool,
    overlap: bool,
    camera_hz: float,
) -> dict[str, object]:
    """``frames`` frames (after two warm-up ones) from a ``camera_hz`` camera through the two
    stages as the node runs them (newest frame, just in time), overlapped or not."""
    frame, fallback = astronaut_frame(people)
    detector = create_detector("mediapipe", max_people=people, min_score=0.5)
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    latency: list[float] = []
    done_at: list[float] = []
    found_counts: list[int] = []
    stop = threading.Event()

    def front(item: tuple[int, float]) -> tuple[float, float, FrontEndFrame]:
        index, captured = item
        start = time.perf_counter()
        found = detector.detect(frame, timestamp_ms=index * 33)
        found_counts.append(len(found))
        boxes = found if len(found) >= people else fallback
        if hands_visible:
            boxes = [dataclasses.replace(b, vis_lhand=0.9, vis_rhand=0.9) for b in boxes]
        prepared = pipeline.front_end(frame, timestamp_ms=index * 33, boxes=boxes[:people])
        prepared.timings["frontend"] = (time.perf_counter() - start) * 1e3
        return captured, start, prepared

    def back(item: tuple[float, float, FrontEndFrame], release) -> None:
        captured, _, prepared = item
        result = pipeline.back_end(prepared, tracked=release)
        now = time.perf_counter()
        done_at.append(now)
        if len(done_at) <= 2:
            return  # warm-up: graph creation, first-call allocations
        latency.append((now - captured) * 1e3)
        for stage in STAGES:
            samples[stage].append(result.timings_ms[stage])
        if len(latency) >= frames:
            stop.set()

    with Camera(frame, camera_hz) as camera:
        stages = TwoStages(camera.slot.take, front, back, overlap=overlap)
        try:
            stages.run(stop)
        finally:
            detector.close()
        dropped = camera.slot.dropped
    # Frames over wall time from the end of the last warm-up frame.
    wall_s = done_at[-1] - done_at[1]
    summary = {
        stage: {
            "min_ms": round(float(np.min(v)), 2),
            "median_ms": round(float(np.median(v)), 2),
            "p90_ms": round(float(np.percentile(v, 90)), 2),
        }
        for stage, v in samples.items()
    }
    times = stages.snapshot()
    p50, p95 = np.percentile(latency, [50, 95])
    return {
        "people": people,
        "stages_run": "overlapped" if overlap else "serial",
        "frame": f"{WIDTH}x{HEIGHT}",
        "camera_hz": camera_hz,
        "front_end_found": max(found_counts),
        "hands_visible": "forced" if hands_visible else "as detected",
        "frames": len(latency),
        "frames_per_s": round(len(latency) / wall_s, 2),
        "latency_ms": {"p50": round(float(p50), 1), "p95": round(float(p95), 1)},
        "model_idle_ms_mean": round(times.back_idle_ms, 1),
        "front_end_result_wait_ms_mean": round(times.handoff_wait_ms, 1),
        "camera_frames_replaced": dropped,
        "stages": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=12, help="timed frames per case")
    parser.add_argument("--camera-hz", type=float, default=30.0, help="the stand-in camera's rate")
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
        "model_threads": pipeline.config.num_threads,
        "torch": torch.__version__,
    }
    try:
        for people in (1, 3):
            serial_fps = 0.0
            for overlap in (False, True):
                record = stream(
                    pipeline, people, args.repeats, args.hands_visible, overlap, args.camera_hz
                )
                if overlap:
                    record["frames_per_s_vs_serial"] = round(
                        float(record["frames_per_s"]) / serial_fps, 2
                    )
                serial_fps = float(record["frames_per_s"])
                print(json.dumps({**record, **context}), flush=True)
    finally:
        pipeline.close()


if __name__ == "__main__":
    main()
