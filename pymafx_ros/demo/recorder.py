"""Records the node's outputs (serialized, as received) and writes them as a rosbag2 (MCAP).

rosbag2_py and `ros2 bag` are not installable here; rosbags writes the same format from the
raw CDR bytes rclpy hands over, so the bag replays in any ROS 2 install.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message

from pymafx_ros.msg import SmplxPeople

# topic -> (message type, QoS the recorder asks for)
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
TF_QOS = QoSProfile(depth=100)


@dataclass
class PeopleRecord:
    """What the summary needs of one SmplxPeople message."""

    stamp_ns: int
    received_ns: int  # wall clock (same clock as the stamps of a live camera)
    people: int


class OutputRecorder(Node):
    """Subscribes to the node's outputs and keeps every message's bytes in memory."""

    def __init__(
        self, node_name: str = "/pymafx", with_overlay: bool = True, **node_kwargs
    ) -> None:
        super().__init__("pymafx_demo_recorder", **node_kwargs)
        from diagnostic_msgs.msg import DiagnosticArray
        from sensor_msgs.msg import CameraInfo, Image
        from tf2_msgs.msg import TFMessage
        from visualization_msgs.msg import MarkerArray

        from pymafx_ros.msg import HandKeypointsArray, SmplxModelInfo

        topics = {
            f"{node_name}/people": (SmplxPeople, QoSProfile(depth=50)),
            f"{node_name}/hands": (HandKeypointsArray, QoSProfile(depth=50)),
            f"{node_name}/model_info": (SmplxModelInfo, LATCHED),
            f"{node_name}/markers": (MarkerArray, QoSProfile(depth=50)),
            "/tf": (TFMessage, TF_QOS),
            "/diagnostics": (DiagnosticArray, QoSProfile(depth=50)),
            "/camera/camera_info": (CameraInfo, QoSProfile(depth=50)),
        }
        if with_overlay:
            topics[f"{node_name}/overlay"] = (Image, QoSProfile(depth=10))
        self._lock = threading.Lock()
        self.messages: list[tuple[str, int, bytes]] = []
        self.types: dict[str, str] = {}
        self.people: list[PeopleRecord] = []
        self.last_diagnostics = None
        self.tf_children: set[str] = set()
        self._msg_types = {topic: msg_type for topic, (msg_type, _) in topics.items()}
        for topic, (msg_type, qos) in topics.items():
            self.types[topic] = _type_name(msg_type)
            self.create_subscription(
                msg_type, topic, lambda raw, topic=topic: self.record(topic, raw), qos, raw=True
            )

    def record(self, topic: str, raw: bytes, received_ns: int | None = None) -> None:
        """Keep one serialized message of ``topic`` (and what the summary needs from it)."""
        now = time.time_ns() if received_ns is None else received_ns
        with self._lock:
            self.messages.append((topic, now, bytes(raw)))
        msg_type = self._msg_types[topic]
        if msg_type is SmplxPeople:
            msg = deserialize_message(raw, SmplxPeople)
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            with self._lock:
                self.people.append(PeopleRecord(stamp, now, len(msg.people)))
        elif topic == "/tf":
            msg = deserialize_message(raw, msg_type)
            with self._lock:
                self.tf_children.update(t.child_frame_id for t in msg.transforms)
        elif topic == "/diagnostics":
            self.last_diagnostics = deserialize_message(raw, msg_type)

    def counts(self) -> dict[str, int]:
        with self._lock:
            out: dict[str, int] = {}
            for topic, _, _ in self.messages:
                out[topic] = out.get(topic, 0) + 1
            return out

    def write_bag(self, path: Path, msg_dir: Path) -> Path:
        """Write everything as an MCAP rosbag2 at ``path`` (a new directory)."""
        from rosbags.rosbag2 import StoragePlugin, Writer

        typestore = _typestore(msg_dir)
        with self._lock:
            messages = sorted(self.messages, key=lambda m: m[1])
        used = sorted({topic for topic, _, _ in messages})
        with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            connections = {
                topic: writer.add_connection(topic, self.types[topic], typestore=typestore)
                for topic in used
            }
            for topic, t_ns, raw in messages:
                writer.write(connections[topic], t_ns, raw)
        return path


def _type_name(msg_type) -> str:
    module = msg_type.__module__.split(".")  # e.g. sensor_msgs.msg._image
    return f"{module[0]}/msg/{msg_type.__name__}"


def _typestore(msg_dir: Path):
    """Kilted's standard types plus this package's messages (read from their .msg files)."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    typestore = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for msg_file in sorted(msg_dir.glob("*.msg")):
        types.update(get_types_from_msg(msg_file.read_text(), f"pymafx_ros/msg/{msg_file.stem}"))
    typestore.register(types)
    return typestore
