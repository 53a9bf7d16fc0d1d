"""People found per multi-person scene: the whole-frame pose pass alone against region search.

Scenes are composed from photos inside installed wheels (``pymafx_ros.tools.scenes``). For each
scene and strategy, prints one JSON line: people in the scene, people found, false detections
and the front end's time per still image (min of ``--repeats`` after a warm-up), then a
Markdown table for the README.

    python benchmarks/people_found.py [--repeats 3] [--max-people 6]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from pymafx_ros.frontend import create_detector
from pymafx_ros.tools.scenes import count_found, multi_person_scenes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-people", type=int, default=6)
    parser.add_argument("--min-score", type=float, default=0.5)
    args = parser.parse_args()
    scenes = multi_person_scenes()
    rows: dict[str, dict[str, object]] = {s.name: {"people": len(s.noses)} for s in scenes}
    for strategy, search in (("whole_frame", False), ("region_search", True)):
        detector = create_detector(
            "mediapipe", max_people=args.max_people, min_score=args.min_score, region_search=search
        )
        for scene in scenes:
            detector.detect(scene.rgb)  # warm-up
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                people = detector.detect(scene.rgb)
                times.append((time.perf_counter() - start) * 1e3)
            found, false = count_found(scene, people)
            record = {
                "scene": scene.name,
                "size": f"{scene.rgb.shape[1]}x{scene.rgb.shape[0]}",
                "strategy": strategy,
                "people": len(scene.noses),
                "found": found,
                "false": false,
                "ms_min": round(min(times), 1),
                "cpu": platform.processor() or platform.machine(),
            }
            print(json.dumps(record), flush=True)
            rows[scene.name]["size"] = record["size"]
            rows[scene.name][strategy] = (found, false, record["ms_min"])
        detector.close()
    print(
        "\n| scene | size | people | whole frame: found / false / ms "
        "| region search: found / false / ms |"
    )
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        cells = [" / ".join(str(v) for v in row[s]) for s in ("whole_frame", "region_search")]
        print(f"| {name} | {row['size']} | {row['people']} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
