"""How the model stage and the front end slow each other when they share the cores: the thread
budget of the two stages (docs/stages.md).

Times the MediaPipe front end alone (wall and CPU time per frame: how many cores it uses), then
for each ``--threads`` count the model stage (one astronaut, both hands visible, as
``pipeline_cpu.py --hands-visible``) alone and beside a MediaPipe loop on another thread (the
worst case: overlapped just in time, they share only the front end's time of each frame).
Prints one JSON line per thread count. Needs a quiet machine: any other job changes the ratios.

    python benchmarks/overlap_threads.py [--backend openvino] [--precision fp32]
        [--threads 1 2] [--repeats 6]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import threading
import time

from pipeline_cpu import astronaut_frame

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.config import BACKEND_CHOICES, PRECISION_CHOICES, PipelineConfig
from pymafx_ros.frontend import create_detector
from pymafx_ros.pipeline.pipeline import Pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="openvino", choices=BACKEND_CHOICES)
    parser.add_argument("--precision", default="fp32", choices=PRECISION_CHOICES)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    frame, boxes = astronaut_frame(1)
    boxes = [dataclasses.replace(b, vis_lhand=0.9, vis_rhand=0.9) for b in boxes]
    detector = create_detector("mediapipe", max_people=1, min_score=0.5)
    stamp = [0]

    def detect() -> float:
        start = time.perf_counter()
        detector.detect(frame, timestamp_ms=stamp[0] * 33)
        stamp[0] += 1
        return (time.perf_counter() - start) * 1e3

    for _ in range(3):
        detect()
    wall, cpu = time.perf_counter(), time.process_time()
    alone_ms = statistics.median(detect() for _ in range(args.repeats * 2))
    cores = (time.process_time() - cpu) / (time.perf_counter() - wall)
    cpu_features = detect_cpu_features()
    try:
        for threads in args.threads:
            config = PipelineConfig(
                detector="external",
                device="cpu",
                backend=args.backend,
                precision=args.precision,
                num_threads=threads,
            )
            pipeline = Pipeline(config)

            def model_ms(pipeline: Pipeline = pipeline) -> float:
                start = time.perf_counter()
                pipeline.process(frame, boxes=boxes)
                return (time.perf_counter() - start) * 1e3

            model_ms()
            model_alone = statistics.median(model_ms() for _ in range(args.repeats))
            stop, beside_front = threading.Event(), []

            def loop(stop: threading.Event = stop, out: list[float] = beside_front) -> None:
                while not stop.is_set():
                    out.append(detect())

            thread = threading.Thread(target=loop)
            thread.start()
            model_beside = statistics.median(model_ms() for _ in range(args.repeats))
            stop.set()
            thread.join()
            record = {
                "threads": threads,
                "backend": pipeline.model_info.backend.get("backend"),
                "precision": pipeline.model_info.backend.get("precision"),
                "front_end_alone_ms": round(alone_ms, 1),
                "front_end_cores_used": round(cores, 2),
                "model_alone_ms": round(model_alone, 1),
                "model_beside_front_end_ms": round(model_beside, 1),
                "model_slowdown": round(model_beside / model_alone, 2),
                "front_end_beside_model_ms": round(statistics.median(beside_front), 1),
                "cpu": cpu_features.model,
                "cpu_flags": " ".join(cpu_features.reported_flags()),
            }
            pipeline.close()
            print(json.dumps(record), flush=True)
    finally:
        detector.close()


if __name__ == "__main__":
    main()
