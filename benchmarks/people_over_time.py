"""People found per frame on clips of people side by side, and the front end's cost per frame.

Runs the MediaPipe multi-person front end and the tracking stage exactly as the pipeline chains
them (the live tracks' predicted boxes handed to the detector before each frame, the best
``max_people`` detections above the score gate, then the tracker), without the model: who is
published in a frame is decided before the model runs. For every clip of
``pymafx_ros.tools.scenes.people_clips`` (and a one-person clip for the cost figure) it prints
one JSON line: frames, people in the clip, frames where every person was published, each
person's share of frames, detections that were nobody, and the front end's median time per
frame (ms, median and mean) and the window pose passes per frame (grid and look-again).
No model and no placeholder: this is the real front end on real photos.

    python benchmarks/people_over_time.py [--frames 24] [--fps 30] [--max-people 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from pymafx_ros.frontend.multi_person_detector import MultiPersonDetector
from pymafx_ros.tools.scenes import Scene, count_found, drifting_people, people_clips
from pymafx_ros.tracking.people import PeopleOverTime

MIN_SCORE = 0.5  # the pipeline's default min_person_score


def run_clip(clip: list[Scene], fps: float, max_people: int) -> dict[str, object]:
    """Publish every frame of ``clip`` as the pipeline would; return its figures."""
    detector = MultiPersonDetector(max_people=max_people, min_score=MIN_SCORE)
    over_time = PeopleOverTime()
    people = len(clip[0].noses)
    seen = np.zeros(people, dtype=int)
    all_found = false_people = 0
    times = []
    # Window pose passes per frame (grid and look-again), counted around the detector's search.
    passes = [0]
    search = detector._search

    def counted(*args: object, **kwargs: object) -> list[np.ndarray]:
        passes[0] += 1
        return search(*args, **kwargs)

    detector._search = counted  # type: ignore[method-assign]
    try:
        for index, scene in enumerate(clip):
            stamp_ms = round(index * 1e3 / fps)
            start = time.perf_counter()
            if hasattr(over_time, "predicted_boxes"):
                detector.expect_people(over_time.predicted_boxes(stamp_ms / 1e3))
            found = detector.detect(scene.rgb, stamp_ms)
            times.append((time.perf_counter() - start) * 1e3)
            found = sorted((d for d in found if d.score >= MIN_SCORE), key=lambda d: -d.score)
            published = over_time.begin_frame(found[:max_people], stamp_ms / 1e3, False).people
            hits, nobody = count_found(scene, published)
            false_people += nobody
            all_found += hits == people
            seen += _who(scene, published)
    finally:
        detector.close()
    return {
        "frames": len(clip),
        "people": people,
        "frames_with_everyone": all_found,
        "share_per_person": [round(float(s) / len(clip), 3) for s in seen],
        "false_people": false_people,
        "frontend_ms_median": round(statistics.median(times), 1),
        "frontend_ms_mean": round(statistics.mean(times), 1),
        "window_passes_per_frame": round(passes[0] / len(clip), 2),
    }


def _who(scene: Scene, published: list) -> np.ndarray:
    """(P,) 1 for each person of the scene a published detection found."""
    hit = np.zeros(len(scene.noses), dtype=int)
    for index in range(len(scene.noses)):
        alone = Scene(scene.name, scene.rgb, scene.noses[index : index + 1])
        hit[index] = count_found(alone, published)[0]
    return hit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--max-people", type=int, default=10)
    args = parser.parse_args()
    clips = {
        "1: astronaut (cost reference)": drifting_people(
            [("astronaut", 40, 0, 512)], args.frames, (1152, 512)
        ),
        **people_clips(args.frames),
    }
    for name, clip in clips.items():
        figures = run_clip(clip, args.fps, args.max_people)
        print(json.dumps({"clip": name, **figures, "machine": platform.node()}), flush=True)


if __name__ == "__main__":
    main()
