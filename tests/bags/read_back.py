"""An output bag read back with rosbags, with the types from this package's msg/ folder."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

MSG_DIR = Path(__file__).resolve().parents[2] / "msg"


def typestore():
    """Kilted's types plus msg/*.msg (what a consumer of the output bag would use)."""
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for path in sorted(MSG_DIR.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"pymafx_ros/msg/{path.stem}"))
    store.register(types)
    return store


def read_bag(path: Path) -> dict[str, list[tuple[int, object, bytes]]]:
    """topic -> [(log time, message, raw CDR)] in log order."""
    store = typestore()
    out: dict[str, list] = defaultdict(list)
    with Reader(path) as reader:
        for connection, log_ns, raw in reader.messages():
            msg = store.deserialize_cdr(raw, connection.msgtype)
            out[connection.topic].append((log_ns, msg, bytes(raw)))
    return dict(out)


def stamp(msg) -> int:
    return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
