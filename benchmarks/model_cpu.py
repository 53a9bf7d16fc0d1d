"""CPU timings of PyMAF-X per backend, stage by stage, with ratios to the official forward and to
eager torch measured in the same run (placeholder assets, seeded weights: they time like real
ones).

    python benchmarks/model_cpu.py --backend openvino [--precision bf16|int8] [--backend torch ...]
        [--official OFFICIAL/bench_official.py] [--repeats 10] [--warmup 2] [--threads 2]
        [--experts body,hands,face]

``OFFICIAL`` is a checkout of the official PyMAF-X code holding the timing harness
``bench_official.py``; neither is part of this repository.

``--backend NAME[:PRECISION]`` (e.g. ``openvino:int8``) may be repeated (``--precision`` is the
default precision; int8 encoders use the calibration recorded for the weights, else the
built-in set, quantized on the first run);
eager ``torch`` fp32 is always timed too, as the reference of ``ratio_vs_torch``. With
``--official`` the official code's harness (same settings, both hands visible) gives
``ratio_vs_official``. Every backend is timed in a process of its own (engines' idle threads
would otherwise steal the cores of the one being timed), and since the machine's load drifts,
``--rounds R`` alternates R times: the official harness, then each backend; a figure is the
minimum (and the median) over all rounds. One JSON object per line: {"stage", "median_ms",
"min_ms", "samples", "threads", "backend", "precision", "cpu", "cpu_flags", ratios}. Stages,
batch of one person:

* body_encoder, face_encoder, hand_encoder (both hands, batch 2);
* head: feedback loop, hand integration and final SMPL-X joints on the encoders' maps;
* full_forward: the official forward's work (all three experts, both hands visible) with the
  SMPL-X mesh (profile ``mesh``, what the node runs with markers);
* full_forward_joints: the same, joints only (profile ``joints``: no markers/overlay);
* full_forward_one_hand_hidden: profile ``mesh``, the left hand below the gate (not run);
* full_forward_release: every output of the release's final mesh (profile ``release``).

``--experts body,hands`` (or ``body``) times the full-forward stages and the head with the face
expert (and the hands) left out, as the node's ``experts`` parameter runs them; the encoder
stages are timed regardless.

Ratios are of minimum times (the least disturbed on a shared machine).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import create_backend
from pymafx_ros.config import EXPERT_SETS
from pymafx_ros.model.factory import build_model
from pymafx_ros.model.hand_rows import all_hands_rows
from pymafx_ros.pipeline.calibration import calibration_for

ROOT = Path(__file__).resolve().parents[1]
FULL_STAGES = (
    "full_forward",
    "full_forward_joints",
    "full_forward_one_hand_hidden",
    "full_forward_release",
)


def _timed(run: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def _inputs() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    body, lhand, rhand, face = (torch.randn(1, 3, 224, 224, generator=generator) for _ in range(4))
    return {"body": body, "lhand": lhand, "rhand": rhand, "face": face}


def _stages(backend, x: dict[str, torch.Tensor], experts: str) -> dict[str, Callable[[], object]]:
    runs = experts.split(",")
    hand_crops = (x["lhand"], x["rhand"]) if "hands" in runs else (None, None)
    crops = (x["body"], *hand_crops, x["face"] if "face" in runs else None)
    visible = {"vis_lhand": torch.tensor([0.8]), "vis_rhand": torch.tensor([0.8])}
    one_hidden = {"vis_lhand": torch.tensor([0.05]), "vis_rhand": torch.tensor([0.8])}
    hands = torch.cat([x["rhand"], torch.flip(x["lhand"], [3])])
    rows = all_hands_rows(1)
    vis = torch.tensor([[0.8, 0.8]])
    flag = torch.tensor(False)
    run_face = torch.tensor(["face" in runs])

    def full(profile: str, vis_inputs: dict[str, torch.Tensor]) -> Callable[[], object]:
        return lambda: backend.predict(*crops, **vis_inputs, profile=profile)

    if backend.name == "torch_compile":  # compiled whole per batch bucket: no stage alone
        return {
            "full_forward": full("mesh", visible),
            "full_forward_joints": full("joints", visible),
        }
    if backend.name == "torch":
        model = backend.model
        with torch.inference_mode():
            pyramids = model.encode(x["body"], hands, crops[3])

        def encoder(part: str, images: torch.Tensor) -> Callable[[], object]:
            return lambda: model.encoders[part](images)

        def head() -> object:
            with torch.inference_mode():
                return model.refine(pyramids, rows, vis, flag, "joints", run_face=run_face)

    else:
        maps = backend.encode("body", x["body"]) + backend.encode("hand", hands)
        maps += backend.encode("face", x["face"]) if "face" in runs else backend.no_face_maps(1)
        control = [rows.numpy(), vis.numpy(), flag.numpy(), run_face.numpy()]

        def encoder(part: str, images: torch.Tensor) -> Callable[[], object]:
            return lambda: backend.encode(part, images)

        def head() -> object:
            return backend.run_head("joints", maps + control)

    return {
        "body_encoder": encoder("body", x["body"]),
        "hand_encoder": encoder("hand", hands),
        "face_encoder": encoder("face", x["face"]),
        "head": head,
        "full_forward": full("mesh", visible),
        "full_forward_joints": full("joints", visible),
        "full_forward_one_hand_hidden": full("mesh", one_hidden),
        "full_forward_release": full("release", visible),
    }


def _checked_stdout(command: list[str], what: str) -> list[str]:
    """Stdout lines of ``command``; exits with its stderr's tail when it fails."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{what} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout.splitlines()


def _official(path: Path, args: argparse.Namespace) -> dict[str, float]:
    """Run the official harness (both hands visible); print its lines; stage -> min ms."""
    command = [
        sys.executable, str(path), "--hands-visible", "--repo", str(ROOT),
        "--repeats", str(args.repeats), "--warmup", str(args.warmup),
        "--threads", str(args.threads),
    ]  # fmt: skip
    minima = {}
    for line in _checked_stdout(command, "official harness"):
        if line.startswith("{"):
            print(line, flush=True)
            record = json.loads(line)
            if "stage" in record:
                minima[record["stage"]] = record["min_ms"]
    return minima


def _worker(entry: str, args: argparse.Namespace) -> None:
    """Time one backend's stages in this process; print {"stage", "times"} lines."""
    name, _, precision = entry.partition(":")
    model, _ = build_model()
    options = BackendOptions(
        name, precision, num_threads=args.threads, calibration=calibration_for
    )
    backend = create_backend(model, options)
    # torch_compile compiles each profile for minutes on a CPU: the two the pipeline runs.
    compiled = name == "torch_compile"
    for profile in ("joints", "mesh") if compiled else ("joints", "mesh", "release"):
        backend.prepare(profile)
    del model
    backend.release_model()
    gc.collect()
    for stage, run in _stages(backend, _inputs(), args.experts).items():
        times = _timed(run, args.warmup, args.repeats)
        print(json.dumps({"stage": stage, "times": times}), flush=True)


def _run_worker(entry: str, args: argparse.Namespace) -> dict[str, list[float]]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", entry,
        "--repeats", str(args.repeats), "--warmup", str(args.warmup),
        "--threads", str(args.threads), "--experts", args.experts,
    ]  # fmt: skip
    stdout = _checked_stdout(command, f"backend {entry}")
    lines = [json.loads(line) for line in stdout if line.startswith("{")]
    return {line["stage"]: line["times"] for line in lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="NAME[:PRECISION], repeatable")
    parser.add_argument("--precision", default="fp32", help="default precision of --backend")
    parser.add_argument("--official", type=Path, help="the official harness bench_official.py")
    parser.add_argument("--rounds", type=int, default=1, help="alternations official/ours")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per stage and round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--experts",
        default=EXPERT_SETS[0],
        choices=EXPERT_SETS,
        help="experts of the full-forward stages and the head (the node's experts parameter)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # NAME:PRECISION, internal
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        _worker(args.worker, args)
        return
    cpu = detect_cpu_features()
    wanted = ["torch:fp32"]
    for entry in args.backend or []:
        name, _, precision = entry.partition(":")
        if f"{name}:{precision or args.precision}" not in wanted:
            wanted.append(f"{name}:{precision or args.precision}")
    samples: dict[tuple[str, str], list[float]] = {}
    official: list[float] = []
    for _ in range(args.rounds):
        if args.official:
            official.append(_official(args.official, args)["full_forward"])
        for entry in wanted:
            for stage, times in _run_worker(entry, args).items():
                samples.setdefault((entry, stage), []).extend(times)
    reference = {
        stage: min(times) for (entry, stage), times in samples.items() if entry == wanted[0]
    }
    if official:
        print(json.dumps({"official_full_forward_min_ms_per_round": official}), flush=True)
    for (entry, stage), times in samples.items():
        name, _, precision = entry.partition(":")
        record = {
            "stage": stage,
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "samples": len(times),
            "threads": args.threads,
            "experts": args.experts,
            "backend": name,
            "precision": precision,
            "cpu": cpu.model,
            "cpu_flags": " ".join(cpu.reported_flags()),
        }
        if entry != wanted[0]:
            record["ratio_vs_torch"] = round(min(times) / reference[stage], 3)
        if official and stage in FULL_STAGES:
            record["ratio_vs_official"] = round(min(times) / min(official), 3)
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
