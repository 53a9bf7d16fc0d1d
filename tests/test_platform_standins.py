"""The interface stand-ins (third_party/) are interchangeable with the official packages.

A stand-in is only useful if tf2/RViz on a full ROS installation accept its messages: its RIHS01
type hash must equal the official Kilted one (rosbags ships the official definitions).
"""

from __future__ import annotations

import json
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from rosbags.typesys import Stores, get_typestore

ROOT = Path(__file__).resolve().parents[1]
STANDINS = {"tf2_msgs": ["TFMessage"]}


def _built_type_hash(package: str, message: str) -> str:
    """The RIHS01 hash rosidl computed for `package/msg/message` in this environment."""
    description = Path(get_package_share_directory(package)) / "msg" / f"{message}.json"
    hashes = json.loads(description.read_text())["type_hashes"]
    wanted = f"{package}/msg/{message}"
    return next(h["hash_string"] for h in hashes if h["type_name"] == wanted)


def test_environment_interfaces_match_official_kilted_hashes():
    official = get_typestore(Stores.ROS2_KILTED)
    for package, messages in STANDINS.items():
        if (ROOT / "ros2_ws" / "src" / package).is_symlink():  # setup linked our stand-in
            share = Path(get_package_share_directory(package)).resolve()
            assert share == (ROOT / "ros2_ws" / "install" / package / "share" / package).resolve()
        for message in messages:
            expected = official.hash_rihs01(f"{package}/msg/{message}")
            assert _built_type_hash(package, message) == expected, f"{package}/{message}"
