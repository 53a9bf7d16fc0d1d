"""What the temporal filter buys and costs, through the offline CLI on a moving, noisy video.

Makes a video of the astronaut photo sliding across the frame with fresh pixel noise in every
frame (``pymafx_ros.tools.scenes.noisy_walk``), runs ``pymafx-ros process`` on it twice, with
and without ``--no-smoothing``, and prints one JSON line with:
- jitter of the joints (mm, RMS of an 11-frame straight-line high-pass, all joints, every
  window of the sequence) for both runs, and the reduction;
- the lag of the smoothed joints: the photo slides at constant speed, so the straight-line fit
  through each raw joint's trajectory is the motion without the noise; the lag is how far
  behind that line the smoothed joint runs, in time (its offset along the line's velocity
  divided by the speed), averaged over joints and frames after the first 15 (the filter
  settling); and the filter's own delay estimate;
- the filter's compute time per frame (the pipeline's ``tracking`` stage, median ms).
Added latency = lag + compute time; the target is at most one frame at 30 Hz (33.3 ms).
``--sweep-beta B ...`` also filters the raw run's joints offline with the position filter at
each ``beta`` (per m/s; other settings the defaults) and prints its jitter cut and lag: the
trade-off the parameter ``smoothing.position.beta`` sets.
Placeholder weights make the poses meaningless, but the motion and the jitter are real.

    python benchmarks/smoothing_cli.py [--frames 60] [--fps 30] [--threads 2] [--sweep-beta 2 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import numpy as np

from pymafx_ros.cli import main as cli
from pymafx_ros.config import OneEuroParams, SmoothingConfig
from pymafx_ros.tools.scenes import noisy_walk, write_video
from pymafx_ros.tracking.one_euro import PointFilter
from pymafx_ros.tracking.quality import JITTER_WINDOW, high_pass_rms

SETTLE = 15  # frames the filter needs from its first (unfiltered) sample to steady motion


def load(out: Path) -> tuple[np.ndarray, list[dict]]:
    """Joints (T, 55, 3) of the one person of every frame, and the frame records."""
    records = [json.loads(p.read_text()) for p in sorted(out.glob("frame_*.json"))]
    if not all(len(r["people"]) == 1 for r in records):
        raise SystemExit("expected exactly one person in every frame")
    return np.array([r["people"][0]["joints"] for r in records]), records


def jitter_mm(joints: np.ndarray, fps: float) -> float:
    """Mean over sliding windows of the windowed high-pass RMS (mm)."""
    stamps = np.arange(len(joints)) / fps
    figures = [
        high_pass_rms(stamps[i : i + JITTER_WINDOW], joints[i : i + JITTER_WINDOW])
        for i in range(len(joints) - JITTER_WINDOW + 1)
    ]
    return 1e3 * float(np.mean(figures))


def lag_behind_motion_ms(raw: np.ndarray, smoothed: np.ndarray, fps: float) -> float:
    """Mean delay (ms) of ``smoothed`` (T, J, 3) behind the straight-line fit through ``raw``
    (the constant-speed motion), over joints and frames after the first ``SETTLE`` frames."""
    t = np.arange(len(raw)) / fps
    design = np.column_stack([np.ones_like(t), t])
    coefficients, *_ = np.linalg.lstsq(design, raw.reshape(len(raw), -1), rcond=None)
    line = (design @ coefficients).reshape(raw.shape)
    velocity = coefficients[1].reshape(raw.shape[1:])  # (J, 3) m/s
    behind = (line - smoothed)[SETTLE:]
    delays = (behind * velocity).sum(-1) / (velocity * velocity).sum(-1)
    return 1e3 * float(delays.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--noise", type=float, default=12.0, help="pixel noise sigma")
    parser.add_argument("--speed", type=float, default=3.0, help="motion, px per frame")
    parser.add_argument("--sweep-beta", type=float, nargs="*", default=[], metavar="BETA")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        video = root / "walk.mp4"
        write_video(
            str(video),
            noisy_walk(args.frames, speed_px=args.speed, noise_sigma=args.noise),
            args.fps,
        )
        runs = {}
        for name, extra in (("raw", ["--no-smoothing"]), ("smoothed", [])):
            out = root / name
            common = ["process", str(video), "--out", str(out), "--threads", str(args.threads)]
            # One person: the single-person front end, as the figures before --max-people 10.
            common += ["--max-people", "1"]
            if cli(common + extra) != 0:
                raise SystemExit(f"the CLI failed on the {name} run")
            runs[name] = load(out)
    (raw, _), (smoothed, records) = runs["raw"], runs["smoothed"]
    lag = lag_behind_motion_ms(raw, smoothed, args.fps)
    compute = float(np.median([r["timings_ms"]["tracking"] for r in records]))
    filter_lag = float(
        np.median([r["tracks"][0]["lag_ms"] for r in records[SETTLE:] if r["tracks"]])
    )
    jitter_raw, jitter_smoothed = jitter_mm(raw, args.fps), jitter_mm(smoothed, args.fps)
    print(
        json.dumps(
            {
                "frames": args.frames,
                "fps": args.fps,
                "jitter_raw_mm": round(jitter_raw, 2),
                "jitter_smoothed_mm": round(jitter_smoothed, 2),
                "jitter_reduction": round(1.0 - jitter_smoothed / jitter_raw, 3),
                "lag_behind_motion_ms": round(lag, 1),
                "lag_filter_estimate_ms": round(filter_lag, 1),
                "filter_compute_ms": round(compute, 2),
                "added_latency_ms": round(max(lag, 0.0) + compute, 1),
                "one_frame_ms": round(1e3 / args.fps, 1),
                "ids": sorted({p["track_id"] for r in records for p in r["people"]}),
                "cpu": platform.processor() or platform.machine(),
            }
        )
    )
    default = SmoothingConfig().position
    for beta in args.sweep_beta:
        joint_filter = PointFilter(OneEuroParams(default.min_cutoff, beta, default.d_cutoff))
        offline = np.array(
            [joint_filter(j, None if i == 0 else 1.0 / args.fps) for i, j in enumerate(raw)]
        )
        cut = 1.0 - jitter_mm(offline, args.fps) / jitter_raw
        lag_ms = lag_behind_motion_ms(raw, offline, args.fps)
        print(
            json.dumps(
                {
                    "position_beta": beta,
                    "jitter_reduction": round(cut, 3),
                    "lag_behind_motion_ms": round(lag_ms, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
