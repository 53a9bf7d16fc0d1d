"""A TF listener for tests, since tf2_ros is not installable here: keeps every transform by
(child, stamp) from /tf and /tf_static and composes chains at an exact stamp (no interpolation)."""

from __future__ import annotations

import threading

import numpy as np
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from scipy.spatial.transform import Rotation
from tf2_msgs.msg import TFMessage

# The QoS tf2_ros's listeners use: depth 100, reliable; static is transient-local.
DYNAMIC_QOS = QoSProfile(depth=100)
STATIC_QOS = QoSProfile(depth=100, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def transform_matrix(transform) -> np.ndarray:
    """geometry_msgs/Transform -> 4x4 matrix mapping child coordinates to parent ones."""
    r, t = transform.rotation, transform.translation
    matrix = np.eye(4)
    matrix[:3, :3] = Rotation.from_quat([r.x, r.y, r.z, r.w]).as_matrix()
    matrix[:3, 3] = (t.x, t.y, t.z)
    return matrix


class MiniTfBuffer:
    """Every received transform, keyed by child frame and stamp (ns)."""

    def __init__(self, node: Node) -> None:
        self._lock = threading.Lock()
        self.edges: dict[str, dict[int, tuple[str, np.ndarray]]] = {}
        self.messages: list[TFMessage] = []
        node.create_subscription(TFMessage, "/tf", self._add, DYNAMIC_QOS)
        node.create_subscription(TFMessage, "/tf_static", self._add, STATIC_QOS)

    def _add(self, msg: TFMessage) -> None:
        with self._lock:
            self.messages.append(msg)
            for t in msg.transforms:
                stamp = t.header.stamp.sec * 10**9 + t.header.stamp.nanosec
                by_stamp = self.edges.setdefault(t.child_frame_id, {})
                by_stamp[stamp] = (t.header.frame_id, transform_matrix(t.transform))

    def frames_at(self, stamp_ns: int) -> dict[str, str]:
        """child -> parent of every transform stamped ``stamp_ns``."""
        with self._lock:
            return {
                child: by_stamp[stamp_ns][0]
                for child, by_stamp in self.edges.items()
                if stamp_ns in by_stamp
            }

    def lookup(self, target: str, source: str, stamp_ns: int) -> np.ndarray:
        """4x4 T with p_target = T @ p_source, from transforms stamped exactly ``stamp_ns``."""
        with self._lock:
            chain = np.eye(4)
            frame = source
            for _ in range(200):
                if frame == target:
                    return chain
                by_stamp = self.edges.get(frame, {})
                if stamp_ns not in by_stamp:
                    raise LookupError(f"no transform for {frame} at {stamp_ns} towards {target}")
                parent, matrix = by_stamp[stamp_ns]
                chain = matrix @ chain
                frame = parent
        raise LookupError(f"{source} -> {target}: chain too long (a loop?)")
