"""Demo tooling: the generated sample clip and the output recorder's rosbag2."""

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

from pymafx_ros.pipeline.result import FrameResult
from pymafx_ros.ros.message_builders import people_message
from pymafx_ros.ros.sample_clip import sample_frames, sample_intrinsics


def test_sample_clip_moves_a_little_and_is_deterministic():
    frames = sample_frames(6, 96)
    assert all(f.shape == (96, 96, 3) and f.dtype == np.uint8 for f in frames)
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert np.array_equal(frames[2], sample_frames(6, 96)[2])
    k = sample_intrinsics(96, 96)
    assert k.from_camera_info and k.cx == 48.0 and k.fx > 0


def test_recorder_writes_a_bag_that_reads_back(tmp_path):
    from rosbags.rosbag2 import Reader

    from pymafx_ros.ros.recorder import OutputRecorder

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
