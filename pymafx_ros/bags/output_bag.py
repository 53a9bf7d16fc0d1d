"""The output bag: what the node would have published, as an MCAP rosbag2 with the message
definitions embedded, written to a temporary folder and renamed into place only when complete.

:class:`RecordingNode` stands in for the node towards the node's own publishing code
(``ros/publishing.FramePublisher`` and what it builds on): ``create_publisher`` hands out
publishers that serialize with rclpy (the node's message classes) into the bag, under the
topic names the node would use (``~/people`` -> ``/pymafx/people``), at the log time of the
image being processed. So the bag holds exactly what the node publishes, by construction.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rclpy.serialization import serialize_message
from rclpy.time import Time
from rosbags.interfaces import Connection
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from pymafx_ros.ros.node import NODE_NAME

_REPO_MSG_DIR = Path(__file__).resolve().parents[2] / "msg"


def _msg_dir() -> Path:
    """This package's msg/ folder: the installed share/pymafx_ros/msg, else the source tree's."""
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = Path(get_package_share_directory("pymafx_ros")) / "msg"
        if installed.is_dir():
            return installed
    except (ImportError, LookupError, ValueError):
        pass
    return _REPO_MSG_DIR


def output_typestore() -> Typestore:
    """ROS 2 Kilted's types plus this package's (msg/*.msg), for the definitions in the bag."""
    store = get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    for path in sorted(_msg_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"pymafx_ros/msg/{path.stem}"))
    store.register(types)
    return store


def msgtype_of(cls: type) -> str:
    """'sensor_msgs/msg/Image' for rclpy's ``sensor_msgs.msg.Image``."""
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


class OutputBag:
    """An MCAP rosbag2 at ``path``, built in a hidden temporary folder beside it; ``commit``
    renames it into place, ``abort`` removes it (nothing half-written ever carries the name)."""

    def __init__(self, path: Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists (use --overwrite to replace it)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._staging = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        shutil.rmtree(self._staging, ignore_errors=True)
        self._staging.mkdir()
        self._typestore = output_typestore()
        self._writer = Writer(
            self._staging / self.path.name, version=9, storage_plugin=StoragePlugin.MCAP
        )
        self._writer.open()
        self._connections: dict[tuple[str, str], Connection] = {}
        self.messages = 0

    def connection(self, topic: str, msgtype: str, like: Connection | None = None) -> Connection:
        """The bag's connection for ``topic``; ``like`` copies an input connection's own
        definition (for messages copied through), else the typestore's is embedded."""
        key = (topic, msgtype)
        if key not in self._connections:
            if like is not None and like.msgdef.data and like.digest.startswith("RIHS01"):
                self._connections[key] = self._writer.add_connection(
                    topic, msgtype, msgdef=like.msgdef.data, rihs01=like.digest
                )
            else:
                self._connections[key] = self._writer.add_connection(
                    topic, msgtype, typestore=self._typestore
                )
        return self._connections[key]

    def write(self, topic: str, msgtype: str, log_ns: int, cdr: bytes, like=None) -> None:
        """Write one serialized message at log time ``log_ns``."""
        self._writer.write(self.connection(topic, msgtype, like), log_ns, cdr)
        self.messages += 1

    def set_info(self, key: str, value: str) -> None:
        """A string in the bag's metadata.yaml custom_data (what ran, what went wrong)."""
        self._writer.set_custom_data(key, value)

    def commit(self) -> Path:
        """Close the bag and rename it into place (replacing an old one); returns its path."""
        self._writer.close()
        if self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self._staging / self.path.name, self.path)
        self._staging.rmdir()
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        try:
            self._writer.close()
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)


class _Clock:
    def __init__(self) -> None:
        self.stamp_ns = 0

    def now(self) -> Time:
        return Time(nanoseconds=self.stamp_ns)


class _Publisher:
    def __init__(self, node: RecordingNode, topic: str, msgtype: str) -> None:
        self._node, self.topic, self.msgtype = node, topic, msgtype

    def publish(self, msg: Any) -> None:
        # The node publishes some messages already serialized (markers): bytes go in as they are.
        cdr = msg if isinstance(msg, bytes | bytearray) else serialize_message(msg)
        self._node.bag.write(self.topic, self.msgtype, self._node.log_ns, bytes(cdr))

    def get_subscription_count(self) -> int:
        return 0  # nobody watches ~/overlay in a bag: the node draws it only for subscribers

    def wait_for_all_acked(self, *_: Any) -> bool:
        return True


class RecordingNode:
    """The slice of ``rclpy.node.Node`` the node's publishers use, recording into ``bag``.
    ``log_ns`` and ``clock.stamp_ns`` are set per frame by the caller; subscriptions (TF for
    ``~/world_bodies``) are kept and fed with :meth:`deliver`."""

    def __init__(self, bag: OutputBag, name: str = NODE_NAME, namespace: str = "") -> None:
        self.bag = bag
        self.log_ns = 0
        self._name, self._namespace = name, namespace.rstrip("/")
        self._clock = _Clock()
        self._callbacks: dict[str, list[Callable[[Any], None]]] = {}

    @property
    def clock(self) -> _Clock:
        return self._clock

    def get_clock(self) -> _Clock:
        return self._clock

    def resolve_topic_name(self, topic: str) -> str:
        """'~/people' -> '/pymafx/people'; relative names go under the namespace."""
        if topic.startswith("~/"):
            return f"{self._namespace}/{self._name}/{topic[2:]}"
        if topic.startswith("/"):
            return topic
        return f"{self._namespace}/{topic}"

    def create_publisher(self, msg_type: type, topic: str, *_: Any, **__: Any) -> _Publisher:
        return _Publisher(self, self.resolve_topic_name(topic), msgtype_of(msg_type))

    def create_subscription(
        self, _msg_type: type, topic: str, callback: Callable[[Any], None], *_: Any, **__: Any
    ) -> None:
        self._callbacks.setdefault(self.resolve_topic_name(topic), []).append(callback)

    def deliver(self, topic: str, msg: Any) -> None:
        """Hand ``msg`` to the subscriptions on ``topic``, as the executor would."""
        for callback in self._callbacks.get(topic, []):
            callback(msg)
