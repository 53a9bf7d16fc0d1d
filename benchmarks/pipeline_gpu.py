"""Pipeline frames per second on a CUDA GPU, front end included (1 and 3 people, 640x480).

The same measurement as ``pipeline_cpu.py`` (its ``stream``: a stand-in camera, the MediaPipe
front end on the CPU beside the model stage as the node runs them, crops cut on the GPU from one
upload, the model, the lift), with ``device: cuda`` and the ``torch`` (eager), ``torch_compile``
(inductor, CUDA graphs) or ``tensorrt`` backend. Prints one JSON line per case with
min/median/p90 per stage, frames per second over the wall time (``frames_per_s``) and from the
median total, the same without the front end (what the model side alone would allow: when it
is far higher, the CPU front end is the bottleneck), and the GPU. On a GPU the "crops" stage is
the time to queue the crop kernels; the GPU's work ends inside "model", whose one device-to-host
copy waits for it. The issue's target: >= 30 frames/s end to end for one person.

    python benchmarks/pipeline_gpu.py [--repeats 30] [--backend torch|torch_compile|tensorrt]
        [--precision fp16] [--build-engines] [--with-vertices] [--hands-visible] [--threads 0]
        [--camera-hz 60]

The tensorrt backend needs its engines for max_people 3 (``pymafx-ros build-engines
--max-people 3``, or ``--build-engines`` here). Exits with status 2 and a message without CUDA,
or when the tensorrt backend cannot run (it would fall back to eager: not what was asked).
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from pipeline_cpu import stream

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.devices import describe_device
from pymafx_ros.pipeline.pipeline import Pipeline


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``argv``: None for sys.argv)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument(
        "--backend", choices=("torch", "torch_compile", "tensorrt"), default="torch"
    )
    parser.add_argument("--precision", choices=("fp32", "fp16", "auto"), default="auto")
    parser.add_argument("--build-engines", action="store_true", help="build missing engines")
    parser.add_argument("--with-vertices", action="store_true", help="the SMPL-X mesh too")
    parser.add_argument("--hands-visible", action="store_true", help="force both hands visible")
    parser.add_argument("--camera-hz", type=float, default=60.0, help="the stand-in camera's rate")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    if not torch.cuda.is_available():
        print(
            "pipeline_gpu.py: no CUDA device (torch.cuda.is_available() is False)", file=sys.stderr
        )
        return 2
    config = PipelineConfig(
        detector="external",
        device="cuda",
        num_threads=args.threads,
        max_people=3,
        backend=args.backend,
        precision=args.precision,
        build_engines_on_start=args.build_engines,
        with_vertices=args.with_vertices,
    )
    pipeline = Pipeline(config)
    backend = pipeline.model_info.backend
    if backend.get("fallback"):
        print(f"pipeline_gpu.py: {backend['fallback']}", file=sys.stderr)
        pipeline.close()
        return 2
    context = {
        "gpu": describe_device(pipeline.device),
        "backend": backend.get("backend"),
        "precision": backend.get("precision"),
        "with_vertices": args.with_vertices,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    try:
        for people in (1, 3):
            record = stream(
                pipeline, people, args.repeats, args.hands_visible, True, args.camera_hz
            )
            stages = record["stages"]
            total = stages["total"]["median_ms"]
            without_front_end = total - stages["frontend"]["median_ms"]
            record["fps_median"] = round(1e3 / total, 1)
            record["fps_median_without_front_end"] = round(1e3 / without_front_end, 1)
            if people == 1:
                record["target_30fps_met"] = record["frames_per_s"] >= 30.0
            print(json.dumps({**record, **context}), flush=True)
    finally:
        pipeline.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
