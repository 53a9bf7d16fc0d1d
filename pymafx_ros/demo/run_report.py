"""Pictures of a recorded run: the latency plot's series and the overlay video, from the messages
the node published (as ``OutputRecorder`` keeps them: topic, receive time, raw bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image

from pymafx_ros.ros.conversions import image_to_rgb
from pymafx_ros.ros.diagnostics import latency_percentiles

Recorded = Sequence[tuple[str, int, bytes]]  # (topic, receive time ns, serialized message)
Series = list[tuple[float, float]]


def latency_series(
    people: Sequence[tuple[int, int]], recorded: Recorded, diagnostics_topic: str = "/diagnostics"
) -> tuple[Series, dict[str, Series]]:
    """End to end per frame from (image stamp ns, receive time ns) pairs, and each stage's p50
    from the node's diagnostics; times in seconds since the first processed frame."""
    if not people:
        return [], {}
    start = min(received for _, received in people)
    end_to_end = [
        ((r - start) / 1e9, (r - s) / 1e6) for s, r in sorted(people, key=lambda p: p[1])
    ]
    stages: dict[str, Series] = {}
    for topic, received, raw in recorded:
        if topic != diagnostics_topic or received < start:
            continue
        for stage, (p50, _, _) in latency_percentiles(
            deserialize_message(raw, DiagnosticArray)
        ).items():
            stages.setdefault(stage, []).append(((received - start) / 1e9, p50))
    return end_to_end, stages


def write_overlay_video(path: Path, recorded: Recorded, topic: str, fps: float) -> int:
    """Encode every ``topic`` Image (the node's overlay) as an MP4 at ``fps``, in the order they
    arrived; returns the number of frames written (0: no file)."""
    import cv2

    writer = None
    written = 0
    try:
        for name, _, raw in recorded:
            if name != topic:
                continue
            rgb = image_to_rgb(deserialize_message(raw, Image))
            if writer is None:
                height, width = rgb.shape[:2]
                path.parent.mkdir(parents=True, exist_ok=True)
                writer = cv2.VideoWriter(
                    str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height)
                )
            elif rgb.shape[:2] != (height, width):  # the camera changed resolution
                rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
            written += 1
    finally:
        if writer is not None:
            writer.release()
    return written
