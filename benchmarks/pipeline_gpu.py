"""Pipeline frames per second on a CUDA GPU, front end included (1 and 3 people, 640x480).

The same measurement as ``pipeline_cpu.py`` (its ``measure``: MediaPipe front end on the CPU,
crops cut on the GPU from one upload, the model, the lift), with ``device: cuda``. Prints one
JSON line per case with min/median/p90 per stage, frames per second from the median total,
the same without the front end, and the GPU. On a GPU the "crops" stage is the time to queue
the crop kernels; the GPU's work ends inside "model", whose one device-to-host copy waits for it.

    python benchmarks/pipeline_gpu.py [--repeats 30] [--backend torch|tensorrt] [--threads 0]

Exits with status 2 and a message without CUDA, or when the backend is not available.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from model_gpu import tensorrt_missing
from pipeline_cpu import measure

from pymafx_ros.pipeline.devices import describe_device
from pymafx_ros.pipeline.pipeline import Pipeline, PipelineConfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--backend", choices=("torch", "tensorrt"), default="torch")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(
            "pipeline_gpu.py: no CUDA device (torch.cuda.is_available() is False)", file=sys.stderr
        )
        return 2
    if args.backend == "tensorrt":
        print(f"pipeline_gpu.py: --backend tensorrt: {tensorrt_missing()}", file=sys.stderr)
        return 2
    config = PipelineConfig(
        detector="external", device="cuda", num_threads=args.threads, max_people=3
    )
    pipeline = Pipeline(config)
    context = {
        "gpu": describe_device(pipeline.device),
        "backend": args.backend,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    try:
        for people in (1, 3):
            record = measure(pipeline, people, args.repeats)
            stages = record["stages"]
            total = stages["total"]["median_ms"]
            without_front_end = total - stages["frontend"]["median_ms"]
            record["fps_median"] = round(1e3 / total, 1)
            record["fps_median_without_front_end"] = round(1e3 / without_front_end, 1)
            print(json.dumps({**record, **context}), flush=True)
    finally:
        pipeline.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
