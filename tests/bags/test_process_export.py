"""``pymafx-ros process VIDEO --export amass``: one motion file per track from a video, in the
world of the stated camera pose (the fake model stands in for the network)."""

from __future__ import annotations

import cv2
import numpy as np
from fake_pipeline import FakePipeline

from pymafx_ros.cli import main


def test_process_exports_one_motion_file_per_track(tmp_path, monkeypatch):
    from pymafx_ros.pipeline import pipeline

    monkeypatch.setattr(pipeline, "Pipeline", FakePipeline)  # built from process's config
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (64, 48))
    for index in range(4):
        writer.write(np.full((48, 64, 3), 40 + 10 * index, np.uint8))
    writer.release()
    out = tmp_path / "out"
    args = ["process", str(video), "--out", str(out), "--export", "amass",
            "--camera-pose", "0,0,1.2,0,0,0.5"]  # fmt: skip
    assert main(args) == 0
    (motion,) = sorted((out / "amass").glob("track_*.npz"))
    data = np.load(motion)
    assert data["pose_body"].shape == (4, 63) and data["trans"].shape == (4, 3)
    assert float(data["mocap_frame_rate"]) == 10.0
    assert main([*args[:-2], "--camera-pose", "1,2"]) == 2  # six numbers or nothing
