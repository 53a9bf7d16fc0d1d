"""The node's small TF buffer: chains, statics, interpolation at a stamp, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pymafx_ros.geometry.tf_buffer import TfBuffer, TransformUnavailableError

S = 1_000_000_000


def quat(axis, degrees):
    return Rotation.from_rotvec(np.radians(degrees) * np.asarray(axis, float)).as_quat()


@pytest.fixture
def buffer():
    tf = TfBuffer()
    # map -> odom (static), odom -> base_link (moving along x, turning about z), then a static
    # camera mount base_link -> camera_link -> camera_optical (REP-103 optical rotation).
    tf.add("map", "odom", 0, [1.0, 0.0, 0.0], quat([0, 0, 1], 0), static=True)
    tf.add("odom", "base_link", 1 * S, [0.0, 0.0, 0.0], quat([0, 0, 1], 0))
    tf.add("odom", "base_link", 3 * S, [2.0, 0.0, 0.0], quat([0, 0, 1], 90))
    tf.add("base_link", "camera_link", 0, [0.1, 0.0, 1.2], quat([0, 0, 1], 0), static=True)
    optical = Rotation.from_euler("ZX", [-90, -90], degrees=True).as_quat()
    tf.add("/camera_link", "camera_optical", 0, [0, 0, 0], optical, static=True)
    return tf


def test_a_chain_is_composed_and_interpolated_at_the_stamp(buffer):
    pose = buffer.lookup("map", "camera_optical", 2 * S)
    # Halfway: base_link at x = 1 in odom, turned 45 degrees; odom at x = 1 in map.
    yaw = Rotation.from_rotvec([0, 0, np.radians(45)]).as_matrix()
    np.testing.assert_allclose(
        pose.translation, [2.0, 0.0, 0.0] + yaw @ [0.1, 0.0, 1.2], atol=1e-9
    )
    # The optical z axis (forward) is base_link's x axis turned by the yaw.
    np.testing.assert_allclose(pose.rotation @ [0, 0, 1], yaw @ [1, 0, 0], atol=1e-9)
    # Either direction, and a point round trip.
    back = buffer.lookup("camera_optical", "map", 2 * S)
    np.testing.assert_allclose((back @ pose).rotation, np.eye(3), atol=1e-12)


def test_between_siblings_and_to_itself(buffer):
    assert buffer.lookup("odom", "odom", 5 * S).translation.tolist() == [0, 0, 0]
    pose = buffer.lookup("camera_link", "odom", 1 * S)
    np.testing.assert_allclose(pose.translation, [-0.1, 0.0, -1.2], atol=1e-12)


def test_unknown_frames_and_stamps_out_of_history_are_refused(buffer):
    with pytest.raises(TransformUnavailableError, match="not connected"):
        buffer.lookup("map", "elsewhere", 2 * S)
    with pytest.raises(TransformUnavailableError, match=r"not at 4\.000 s"):
        buffer.lookup("map", "camera_optical", 4 * S)


def test_bad_transforms_are_ignored_and_old_history_dropped():
    tf = TfBuffer(cache_ns=2 * S)
    tf.add("a", "b", 0, [0, 0, 0], [0, 0, 0, 1])
    tf.add("a", "b", 1 * S, [np.nan, 0, 0], [0, 0, 0, 1])
    tf.add("a", "b", 1 * S, [0, 0, 0], [0, 0, 0, 0])
    with pytest.raises(TransformUnavailableError):
        tf.lookup("a", "b", 1 * S)
    tf.add("a", "b", 5 * S, [1, 0, 0], [0, 0, 0, 1])
    with pytest.raises(TransformUnavailableError):
        tf.lookup("a", "b", 0)  # dropped: older than the cache
    assert tf.lookup("a", "b", 5 * S).translation.tolist() == [1, 0, 0]


def test_frames_nobody_sends_any_more_are_forgotten():
    tf = TfBuffer(cache_ns=1 * S)
    tf.add("camera", "body_p1", 0, [0, 0, 1], [0, 0, 0, 1])
    for k in range(1, 1001):
        tf.add("map", "camera", k * S // 100, [0, 0, 0], [0, 0, 0, 1])
    assert "body_p1" not in tf.frames() and "camera" in tf.frames()
