"""What reading and writing bags cost next to the pipeline, and what Ray workers give.

1. ``process-bag`` on a 1280x720 MCAP bag (``skimage``'s astronaut, raw rgb8) against the same
   pipeline called directly on the same frames (as ``benchmarks/pipeline_cpu.py`` runs it):
   frames/s of each, and the overhead of reading, decoding, publishing and writing as the time
   process-bag spends outside the pipeline over the time inside it, in the same run (target
   <= 10 %). The model is loaded before anything is timed.
2. ``process-bags`` with 1 and 2 workers on 4 such bags: wall time, frames/s, and the start
   cost per actor (Ray start plus model load, from the first bag's extra time).

    python benchmarks/process_bag.py [--frames 6] [--batch-frames 3] [--backend torch]
        [--detector mediapipe] [--skip-overhead] [--skip-batch] [--smoothing-only]

Ray's memory monitor kills actors when the machine's memory passes 95 % (other jobs count
too): such a bag is reported failed with the reason in the manifest and in the figure.

Prints the CPU model and flags first, then one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.bags.batch import BatchOptions, ModelCache, run_batch
from pymafx_ros.bags.process_bag import BagOptions, process_bag
from pymafx_ros.ros.pipeline_factory import pipeline_config

TESTS = Path(__file__).resolve().parents[1] / "tests"
WIDTH, HEIGHT = 1280, 720


def astronaut_720p() -> np.ndarray:
    """A 1280x720 RGB frame with the astronaut (scikit-image's photo) in the middle."""
    from skimage import data

    photo = data.astronaut()
    frame = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
    person = cv2.resize(photo, (HEIGHT, HEIGHT), interpolation=cv2.INTER_AREA)
    left = (WIDTH - HEIGHT) // 2
    frame[:, left : left + HEIGHT] = person
    return frame


def write_720p_bag(path: Path, frames: int) -> Path:
    """An MCAP rosbag2 of ``frames`` raw 1280x720 images at 30 Hz."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    types = store.types
    rgb = astronaut_720p()
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        topic = writer.add_connection("/cam/image_raw", "sensor_msgs/msg/Image", typestore=store)
        for index in range(frames):
            stamp = 1_700_000_000 * 10**9 + index * 33_333_333
            time_msg = types["builtin_interfaces/msg/Time"]
            header = types["std_msgs/msg/Header"](
                stamp=time_msg(sec=stamp // 10**9, nanosec=stamp % 10**9),
                frame_id="camera_optical",
            )
            image = types["sensor_msgs/msg/Image"](
                header=header, height=HEIGHT, width=WIDTH, encoding="rgb8", is_bigendian=0,
                step=WIDTH * 3, data=rgb.reshape(-1),
            )  # fmt: skip
            writer.write(topic, stamp, store.serialize_cdr(image, "sensor_msgs/msg/Image"))
    return path


def overhead(folder: Path, frames: int, overrides: dict) -> dict:
    """Frames/s of the pipeline alone and of process-bag on the same frames and model."""
    from pymafx_ros.bags.params import node_parameters

    bag = write_720p_bag(folder / "single", frames)
    params = node_parameters(overrides={"markers.enable": False, "overlay.enable": False,
                                        **overrides})  # fmt: skip
    rgb = astronaut_720p()
    # One model for both (an actor's cache): the machine may be short of memory.
    pipelines = ModelCache()
    direct = pipelines(pipeline_config(params))
    direct.process(rgb, timestamp_ms=1)  # warm-up (first-call costs), not timed
    start = time.perf_counter()
    for index in range(frames):
        direct.process(rgb.copy(), timestamp_ms=1000 + index * 33)
    direct_s = time.perf_counter() - start
    direct.close()
    built = pipelines(pipeline_config(params))
    # The time process-bag spends inside the pipeline, measured in the same run: on a shared
    # machine two separate runs differ by more than the overhead being measured.
    inside = [0.0]
    process = built.process

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return process(*args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - began

    built.process = timed
    start = time.perf_counter()
    options = BagOptions(bag, folder / "out", overrides=overrides, progress=False)
    summary = process_bag(options, lambda _: built)
    bag_s = time.perf_counter() - start
    return {
        "figure": "process-bag overhead", "frames": frames, "size": f"{WIDTH}x{HEIGHT}",
        "pipeline_fps": round(frames / direct_s, 3), "process_bag_fps": round(frames / bag_s, 3),
        "pipeline_inside_bag_fps": round(frames / inside[0], 3),
        # reading, decoding, publishing and writing, relative to the pipeline in the same run
        "overhead_pct": round(100 * (bag_s - inside[0]) / inside[0], 1),
        "overhead_ms_per_frame": round(1e3 * (bag_s - inside[0]) / frames, 1),
        "processed": summary.processed,
    }  # fmt: skip


def batch(folder: Path, frames: int, workers: int, overrides: dict) -> dict:
    """process-bags on 4 bags with ``workers`` actors on a local Ray."""
    bags = [folder / f"bag{index}" for index in range(4)]
    for bag in bags:  # the same 4 bags for every worker count
        if not bag.exists():
            write_720p_bag(bag, frames)
    template = BagOptions(Path(), Path(), overrides=overrides)
    start = time.perf_counter()
    code = run_batch(BatchOptions(bags, folder / f"out{workers}", workers, template=template))
    wall = time.perf_counter() - start
    rows = json.loads((folder / f"out{workers}" / "manifest.json").read_text())["bags"]
    seconds = [row["seconds"] for row in rows if "seconds" in row]
    busy = sum(seconds)
    return {
        "figure": "process-bags", "workers": workers, "bags": 4, "frames_per_bag": frames,
        "exit_code": code, "wall_s": round(wall, 1), "fps": round(4 * frames / wall, 3),
        "bag_seconds": [row.get("seconds") for row in rows],
        "errors": [row["error"] for row in rows if row.get("error")],
        # Per actor: Ray's start and the actor's process (wall time beyond the bags' own
        # time), and its model load (an actor's first bag takes that much longer than the
        # others; with more actors than bags per actor the load overlaps the others' work).
        "ray_and_actor_start_s": round(wall - busy / workers, 1),
        "model_load_in_first_bag_s": round(
            max(seconds) - float(np.median(seconds)), 1
        ) if seconds else None,
    }  # fmt: skip


def smoothing_figures() -> list[dict]:
    """Jitter and lag of none / causal / offline on one synthetic clip (tests/support's
    ``swaying_track``: a placeholder SMPL-X person swaying and turning, 90 frames at 30 Hz, noise
    on the root parameters; joints recomputed from the filtered parameters as the node does)."""
    sys.path[:0] = [str(TESTS / "support"), str(TESTS / "ros" / "support")]
    from swaying_track import swaying_track

    from pymafx_ros.config import SmoothingConfig
    from pymafx_ros.tracking.offline_smoothing import (
        smooth_track_offline,
        track_jitter_mm,
        track_lag_ms,
    )
    from pymafx_ros.tracking.person_filter import PersonFilter

    track = swaying_track()
    config = SmoothingConfig()
    causal = PersonFilter(config)
    steps = [None] + [1 / 30.0] * (len(track.stamps_s) - 1)
    k = track.intrinsics
    outputs = {
        "none": np.stack([p.joints for p in track.noisy]),
        "causal": np.stack([track.posing(causal(p, dt), k).joints
                            for p, dt in zip(track.noisy, steps, strict=True)]),
        "offline": np.stack([p.joints for p in smooth_track_offline(
            track.noisy, list(track.stamps_s), [k] * len(steps), config, track.posing)]),
    }  # fmt: skip
    return [
        {"figure": "smoothing", "mode": mode,
         "jitter_mm": round(track_jitter_mm(track.stamps_s, j), 2),
         "lag_ms": round(track_lag_ms(track.stamps_s, track.truth, j), 1)}
        for mode, j in outputs.items()
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--batch-frames", type=int, default=3)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--detector", default="mediapipe")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--smoothing-only", action="store_true")
    args = parser.parse_args()
    features = detect_cpu_features()
    print(json.dumps({"cpu": features.model, "cpu_flags": " ".join(features.reported_flags())}),
          flush=True)  # fmt: skip
    if args.smoothing_only:
        for row in smoothing_figures():
            print(json.dumps(row), flush=True)
        return
    overrides = {"backend": args.backend, "detector": args.detector, "device": "cpu"}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_overhead:
            print(json.dumps(overhead(Path(tmp), args.frames, overrides)), flush=True)
        if not args.skip_batch:
            for workers in (1, 2):
                print(json.dumps(batch(Path(tmp), args.batch_frames, workers, overrides)),
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
