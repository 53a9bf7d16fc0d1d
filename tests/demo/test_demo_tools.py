"""Demo tooling: the generated sample clip, the output recorder's rosbag2, and the pictures of a
run (overlay video, latency plot) made from recorded messages."""

from __future__ import annotations

import itertools

import numpy as np
import rclpy
from fake_pipeline import make_person
from graph import REPO
from pymafx_ros.msg import SmplxPeople
from rclpy.serialization import deserialize_message, serialize_message
from smplx_doubles import placeholder_smplx
from std_msgs.msg import Header

from pymafx_ros.demo.sample_clip import sample_frames, sample_intrinsics
from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.ros.message_builders import people_message


def test_sample_clip_moves_a_little_and_is_deterministic():
    frames = sample_frames(6, 96)
    assert all(f.shape == (96, 96, 3) and f.dtype == np.uint8 for f in frames)
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert np.array_equal(frames[2], sample_frames(6, 96)[2])
    k = sample_intrinsics(96, 96)
    assert k.from_camera_info and k.cx == 48.0 and k.fx > 0


def test_recorder_writes_a_bag_that_reads_back(tmp_path):
    from rosbags.rosbag2 import Reader

    from pymafx_ros.demo.recorder import OutputRecorder

    k = sample_intrinsics(96, 96)
    person = make_person(placeholder_smplx(), k, 96, 96, seed=0)
    header = Header(frame_id="cam")
    header.stamp.sec = 3
    frame = FrameResult([person], k, 96, 96, True, True)
    raw = serialize_message(people_message(header, frame, [person], ["p1"]))
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        recorder = OutputRecorder(context=context)
        recorder.record("/pymafx/people", raw, received_ns=3_200_000_000)
        bag = recorder.write_bag(tmp_path / "bag", REPO / "msg")
        recorder.destroy_node()
    finally:
        context.try_shutdown()
    assert recorder.people[0].stamp_ns == 3_000_000_000 and recorder.people[0].people == 1
    with Reader(bag) as reader:
        (connection,) = reader.connections
        assert connection.msgtype == "pymafx_ros/msg/SmplxPeople"
        (message,) = list(reader.messages())
    assert message[1] == 3_200_000_000
    back = deserialize_message(bytes(message[2]), SmplxPeople)
    assert back.people[0].id == "p1" and len(back.people[0].joints) == 55


def test_overlay_video_and_latency_plot_from_recorded_messages(tmp_path):
    import cv2
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    from pymafx_ros.demo.latency_plot import write_latency_plot
    from pymafx_ros.demo.run_report import latency_series, write_overlay_video
    from pymafx_ros.ros.conversions import rgb_to_image

    frames = sample_frames(4, 64)
    recorded = [("/pymafx/overlay", i, serialize_message(rgb_to_image(f))) for i, f in
                enumerate(frames)]  # fmt: skip
    for second in (1, 2):
        status = DiagnosticStatus(name="pymafx: inference", values=[
            KeyValue(key="latency stage model (ms) p50/p95/max", value=f"{400 + second}/450/500"),
            KeyValue(key="frames processed", value="3")])  # fmt: skip
        raw = serialize_message(DiagnosticArray(status=[status]))
        recorded.append(("/diagnostics", second * 10**9, raw))
    assert write_overlay_video(tmp_path / "overlay.mp4", recorded, "/pymafx/overlay", 2.0) == 4
    video = cv2.VideoCapture(str(tmp_path / "overlay.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 4 and int(video.get(3)) == 64
    people = [(0, 500_000_000), (10**9, 1_600_000_000)]  # (stamp, received) ns
    end_to_end, stages = latency_series(people, recorded)
    assert end_to_end == [(0.0, 500.0), (1.1, 600.0)]
    assert stages == {"stage model": [(0.5, 401.0), (1.5, 402.0)]}
    plot = write_latency_plot(tmp_path / "latency.png", end_to_end, stages, "test")
    assert cv2.imread(str(plot)).shape[2] == 3


def test_demo_threads_follow_the_engine(monkeypatch):
    """Exported CPU engines (idle threads yield) get every core; eager torch (spinning OpenMP
    threads) leaves one to the camera, the recorder and DDS; an explicit value wins."""
    from pymafx_ros.demo import harness as demo

    monkeypatch.setattr(demo.os, "cpu_count", lambda: 4)
    assert demo.default_threads("openvino") == 4
    assert demo.default_threads("onnxruntime") == 4
    assert demo.default_threads("torch") == 3
    assert demo.default_threads("tensorrt") == 3
    assert demo.default_threads("no-such-engine") == 3
    monkeypatch.setattr(demo.os, "cpu_count", lambda: 1)
    assert demo.default_threads("torch") == 1
    assert demo.parse_args(["--num-threads", "1", "--backend", "openvino"]).num_threads == 1
    assert demo.parse_args(["--backend", "torch"]).num_threads == 1
