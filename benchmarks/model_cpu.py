"""CPU timings of the PyMAF-X port, stage by stage (placeholder assets, seeded weights).

Prints one JSON object per line: {"stage", "median_ms", "min_ms", "repeats", "threads"}.
Stages: body_encoder, hand_encoder (both hands, batch 2), face_encoder, loop_and_integration
(the feedback loop on precomputed pyramids, final output only), full_forward (``predict``, the
pipeline's call) and full_forward_all_outputs (``forward``, all four ``mesh_out``).
Batch 1, ``torch.inference_mode``, a warm-up then N timed repeats per stage. By default the
model is timed as the pipeline and node run it, after ``PyMAFX.prepare_for_inference()`` (same
function up to float rounding); ``--plain`` times the model as loaded.

    python benchmarks/model_cpu.py [--repeats N] [--warmup N] [--threads 2] [--plain]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch

from pymafx_ros.model.factory import build_model
from pymafx_ros.model.hand_rows import all_hands_rows


def _timed(run: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--plain", action="store_true", help="skip PyMAFX.prepare_for_inference()")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = build_model()
    if not args.plain:
        model.prepare_for_inference()
    encoders = model.encoders
    generator = torch.Generator().manual_seed(0)
    body, lhand, rhand, face = (torch.randn(1, 3, 224, 224, generator=generator) for _ in range(4))
    hands = torch.cat([rhand, torch.flip(lhand, [3])])
    vis = {"vis_lhand": torch.tensor([0.05]), "vis_rhand": torch.tensor([0.8])}
    with torch.inference_mode():
        pyramids = model.encode(body, hands, face)
        rows = all_hands_rows(1)
        vis_hands = torch.stack([vis["vis_lhand"], vis["vis_rhand"]], dim=1)
        given = torch.zeros((), dtype=torch.bool)  # the detector's visibilities are given
        stages: dict[str, Callable[[], object]] = {
            "body_encoder": lambda: encoders["body"](body),
            "hand_encoder": lambda: encoders["hand"](hands),
            "face_encoder": lambda: encoders["face"](face),
            "loop_and_integration": lambda: model.refine(pyramids, rows, vis_hands, given),
            "full_forward": lambda: model.predict(body, lhand, rhand, face, **vis),
            "full_forward_all_outputs": lambda: model(body, lhand, rhand, face, **vis),
        }
        for stage, run in stages.items():
            times = _timed(run, args.warmup, args.repeats)
            record = {
                "stage": stage,
                "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1),
                "repeats": args.repeats,
                "threads": args.threads,
                "prepared": not args.plain,
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
