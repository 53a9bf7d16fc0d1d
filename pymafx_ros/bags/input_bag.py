"""A recorded bag as the node would have received it: camera frames, CameraInfo and TF, as the
node's own (rclpy) message classes, in the bag's order.

Reading is rosbags' (rosbag2 MCAP and sqlite3, ROS 1), with the message types taken from the bag
itself. What cannot be read is never guessed: a corrupt message is skipped and recorded as a
:class:`ReadProblem` with its stamp and topic; a bag that ends early is read up to the last
whole record; an input that cannot be opened, a missing topic or an unknown type raise
:class:`BagInputError`.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.interfaces import Connection
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from tf2_msgs.msg import TFMessage

IMAGE_TYPES: dict[str, type] = {
    "sensor_msgs/msg/Image": Image,
    "sensor_msgs/msg/CompressedImage": CompressedImage,
}
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
TF_TYPE = "tf2_msgs/msg/TFMessage"
TF_TOPICS = ("/tf", "/tf_static")
_MCAP_MAGIC = b"\x89MCAP0\r\n"


class BagInputError(Exception):
    """The input cannot be used (exit code 2); the message names the bag and the problem."""


@dataclass(frozen=True)
class ReadProblem:
    """Something in the bag that could not be read: where (log time, topic) and what."""

    stamp_ns: int
    topic: str
    what: str

    def __str__(self) -> str:
        return f"{self.topic} at {self.stamp_ns / 1e9:.9f} s: {self.what}"


@dataclass(frozen=True)
class BagMessage:
    """One message the offline run uses: ``kind`` is 'image', 'camera_info' or 'tf'."""

    kind: str
    topic: str
    log_ns: int
    msg: Any  # the rclpy message
    cdr: bytes  # the message as CDR (copied through with --copy-inputs)
    connection: Connection


@dataclass(frozen=True)
class Selection:
    """The topics a run reads: the camera, its CameraInfo (or None) and TF."""

    image: Connection
    camera_info: Connection | None
    tf: tuple[Connection, ...]


def _find_mcap(path: Path) -> Path | None:
    if path.is_file() and path.suffix == ".mcap":
        return path
    if path.is_dir():
        files = sorted(path.glob("*.mcap"))
        return files[0] if len(files) == 1 else None
    return None


def _last_whole_record(data: memoryview) -> int:
    """Offset after the last complete top-level MCAP record (op byte + uint64 length)."""
    position = len(_MCAP_MAGIC)
    while position + 9 <= len(data):
        (length,) = struct.unpack_from("<Q", data, position + 1)
        end = position + 9 + length
        if end > len(data) or data[position] == 0x02:  # cut short, or the footer itself
            break
        position = end
    return position


def repair_truncated_mcap(source: Path, folder: Path) -> Path:
    """A copy of ``source`` up to its last whole record, closed with an MCAP footer without a
    summary, so rosbags reads it by scanning (the recorder died before writing the index)."""
    data = memoryview(source.read_bytes())
    end = _last_whole_record(data)
    target = folder / source.name
    with target.open("wb") as out:
        out.write(data[:end])
        out.write(b"\x0f" + struct.pack("<Q", 0))  # DataEnd record (crc 0: not computed)
        out.write(b"\x02" + struct.pack("<QQQI", 20, 0, 0, 0))  # Footer: no summary
        out.write(_MCAP_MAGIC)
    return target


class InputBag:
    """An opened bag; use as a context manager. ``problems`` collects what could not be read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.problems: list[ReadProblem] = []
        self._repair_dir: Path | None = None
        if not self.path.exists():
            raise BagInputError(f"{self.path}: no such bag (file or rosbag2 folder)")
        self.reader = self._open()

    def _open(self) -> AnyReader:
        default = get_typestore(Stores.ROS2_KILTED)
        try:
            reader = AnyReader([self.path], default_typestore=default)
            reader.open()
            return reader
        except (AnyReaderError, FileNotFoundError, OSError) as error:
            first_error = error
        mcap = _find_mcap(self.path)
        if mcap is None or not _starts_with_magic(mcap):
            hint = ""
            if "not indexed" in str(first_error):  # a ROS 1 recorder that died
                hint = "; run `rosbag reindex` on it first (ROS 1 tools)"
            raise BagInputError(f"{self.path}: not a readable bag ({first_error}){hint}") from None
        # Recorded until the recorder died: read what was written, and say the rest is lost.
        self._repair_dir = Path(tempfile.mkdtemp(prefix="pymafx-bag-"))
        repaired = repair_truncated_mcap(mcap, self._repair_dir)
        try:
            reader = AnyReader([repaired], default_typestore=default)
            reader.open()
        except (AnyReaderError, OSError) as error:
            self.close()
            raise BagInputError(f"{self.path}: not a readable bag ({error})") from None
        end_ns = reader.end_time - 1 if reader.message_count else 0
        self.problems.append(
            ReadProblem(end_ns, "*", f"the bag ends early ({first_error}); read up to here")
        )
        return reader

    def close(self) -> None:
        """Close the reader and remove a repaired copy."""
        reader = getattr(self, "reader", None)
        if reader is not None:
            self.reader = None
            with contextlib.suppress(AnyReaderError):  # already closed
                reader.close()
        if self._repair_dir is not None:
            shutil.rmtree(self._repair_dir, ignore_errors=True)
            self._repair_dir = None

    def __enter__(self) -> InputBag:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def is_ros1(self) -> bool:
        return not self.reader.is2

    def select(self, topic: str | None = None, camera_info: str | None = None) -> Selection:
        """The camera topic (``topic``, else the only image topic), its CameraInfo
        (``camera_info``, else the one in the camera's namespace) and TF."""
        connections = self.reader.connections
        images = {c.topic: c for c in connections if c.msgtype in IMAGE_TYPES}
        listed = ", ".join(f"{t} ({c.msgtype})" for t, c in sorted(images.items())) or "none"
        if topic is not None:
            if topic not in images:
                found = {c.topic: c.msgtype for c in connections}
                what = f"has type {found[topic]}" if topic in found else "is not in the bag"
                raise BagInputError(
                    f"{self.path}: camera topic '{topic}' {what}; image topics: {listed}"
                )
            image = images[topic]
        elif len(images) == 1:
            image = next(iter(images.values()))
        else:
            reason = "no sensor_msgs/Image or CompressedImage topic" if not images else (
                "several camera topics; choose one with --topic"
            )  # fmt: skip
            raise BagInputError(f"{self.path}: {reason} (image topics: {listed})")
        infos = {c.topic: c for c in connections if c.msgtype == CAMERA_INFO_TYPE}
        if camera_info is not None:
            if camera_info not in infos:
                raise BagInputError(
                    f"{self.path}: no CameraInfo topic '{camera_info}' (CameraInfo topics: "
                    f"{', '.join(sorted(infos)) or 'none'})"
                )
            info = infos[camera_info]
        else:
            info = _same_namespace(image.topic, infos)
        tf = tuple(c for c in connections if c.msgtype == TF_TYPE and c.topic in TF_TOPICS)
        return Selection(image, info, tf)

    def messages(self, selection: Selection) -> Iterator[BagMessage]:
        """The selected messages in log-time order; unreadable ones become ``problems``."""
        wanted = [selection.image, *selection.tf]
        if selection.camera_info is not None:
            wanted.append(selection.camera_info)
        kinds = {selection.image.id: "image"}
        if selection.camera_info is not None:
            kinds[selection.camera_info.id] = "camera_info"
        last = (0, selection.image.topic)
        iterator = self.reader.messages(connections=wanted)
        while True:
            try:
                connection, log_ns, raw = next(iterator)
            except StopIteration:
                return
            except Exception as error:  # rosbags' storage errors: the rest cannot be read
                self.problems.append(
                    ReadProblem(last[0], last[1], f"reading stopped after this message: {error}")
                )
                return
            last = (log_ns, connection.topic)
            kind = kinds.get(connection.id, "tf")
            try:
                msg, cdr = self._decode(connection, raw)
            except Exception as error:  # a corrupt message costs that message only
                self.problems.append(
                    ReadProblem(log_ns, connection.topic, f"corrupt message skipped: {error}")
                )
                continue
            yield BagMessage(kind, connection.topic, log_ns, msg, cdr, connection)

    def _decode(self, connection: Connection, raw: bytes) -> tuple[Any, bytes]:
        """The rclpy message and its CDR bytes (ROS 1 data is converted field by field)."""
        cls = _message_class(connection.msgtype)
        if self.reader.is2:
            # rosbags checks the CDR against the bag's own definition, rclpy builds the message.
            self.reader.deserialize(raw, connection.msgtype)
            return deserialize_message(bytes(raw), cls), bytes(raw)
        message = to_rclpy(self.reader.deserialize(raw, connection.msgtype), cls)
        return message, serialize_message(message)


def _starts_with_magic(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(_MCAP_MAGIC)) == _MCAP_MAGIC


def _message_class(msgtype: str) -> type:
    if msgtype in IMAGE_TYPES:
        return IMAGE_TYPES[msgtype]
    return {CAMERA_INFO_TYPE: CameraInfo, TF_TYPE: TFMessage}[msgtype]


def _same_namespace(image_topic: str, infos: dict[str, Connection]) -> Connection | None:
    """The CameraInfo whose namespace holds the image topic (the deepest such namespace)."""
    best: Connection | None = None
    depth = -1
    for topic, connection in infos.items():
        namespace = topic.rsplit("/", 1)[0]
        if image_topic.startswith(f"{namespace}/") and namespace.count("/") > depth:
            best, depth = connection, namespace.count("/")
    return best


def to_rclpy(value: Any, cls: type) -> Any:
    """A rosbags message object (ROS 1 or 2) as an instance of the rclpy class ``cls``; ROS 1's
    upper-case CameraInfo fields (D, K, R, P) are found by name case-insensitively."""
    fields = cls.get_fields_and_field_types()
    kwargs: dict[str, Any] = {}
    for name, kind in fields.items():
        source = getattr(value, name, None)
        if source is None:
            source = getattr(value, name.upper(), None)
        if source is None:
            continue  # a field ROS 1 lacks keeps its default
        kwargs[name] = _field(source, kind)
    return cls(**kwargs)


def _field(source: Any, kind: str) -> Any:
    if "/" in kind:  # a nested message, or a sequence of them
        nested = kind.removeprefix("sequence<").rstrip(">").split(",")[0]
        package, type_name = nested.split("/")
        module = __import__(f"{package}.msg", fromlist=[type_name])
        nested_cls = getattr(module, type_name)
        if kind.startswith("sequence<"):
            return [to_rclpy(item, nested_cls) for item in source]
        return to_rclpy(source, nested_cls)
    if isinstance(source, np.ndarray):
        return source.tobytes() if source.dtype == np.uint8 else source.tolist()
    return source
