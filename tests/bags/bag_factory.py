"""Bags written for the tests with rosbags: rosbag2 MCAP and sqlite3, ROS 1; raw or compressed
images; with or without CameraInfo; TF with a world frame that moves; a second camera."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin
from rosbags.rosbag2 import Writer as Writer2
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from scipy.spatial.transform import Rotation

FRAME_ID = "camera_optical"
START_NS = 1_700_000_000 * 10**9
# The camera's optical frame in base_link: 1.5 m up, looking along base_link's x (REP-103).
OPTICAL_IN_BASE = Rotation.from_euler("ZX", [-90, -90], degrees=True)
CAMERA_HEIGHT = 1.5


@dataclass
class BagSpec:
    """What a test bag holds."""

    storage: str = "mcap"  # mcap, sqlite3 or ros1
    frames: int = 6
    width: int = 64
    height: int = 48
    rate_hz: float = 10.0
    compressed: bool = False
    camera_info: bool = True
    tf: bool = True  # /tf_static base_link->camera, /tf map->base_link moving along x
    second_camera: bool = False
    namespace: str = "/cam"


def stamp_of(index: int, spec: BagSpec) -> int:
    return START_NS + int(index * 1e9 / spec.rate_hz)


def base_in_map(index: int) -> np.ndarray:
    """Where base_link is in map at frame ``index`` (moving 5 cm per frame along x)."""
    return np.array([0.05 * index, 0.0, 0.0])


def image_pixels(index: int, spec: BagSpec) -> np.ndarray:
    rng = np.random.default_rng(index)
    return rng.integers(30, 230, size=(spec.height, spec.width, 3), dtype=np.uint8)


class _Messages:
    def __init__(self, ros1: bool) -> None:
        self.ros1 = ros1
        self.store = get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_KILTED)
        if "tf2_msgs/msg/TFMessage" not in self.store.types:  # Noetic's store lacks tf2_msgs
            text = "geometry_msgs/TransformStamped[] transforms"
            self.store.register(get_types_from_msg(text, "tf2_msgs/msg/TFMessage"))
        self.t = self.store.types

    def header(self, stamp: int, frame_id: str):
        time = self.t["builtin_interfaces/msg/Time"](sec=stamp // 10**9, nanosec=stamp % 10**9)
        if self.ros1:
            return self.t["std_msgs/msg/Header"](seq=0, stamp=time, frame_id=frame_id)
        return self.t["std_msgs/msg/Header"](stamp=time, frame_id=frame_id)

    def image(self, stamp: int, rgb: np.ndarray):
        h, w = rgb.shape[:2]
        return self.t["sensor_msgs/msg/Image"](
            header=self.header(stamp, FRAME_ID), height=h, width=w, encoding="rgb8",
            is_bigendian=0, step=w * 3, data=rgb.reshape(-1).copy(),
        )  # fmt: skip

    def compressed(self, stamp: int, rgb: np.ndarray):
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        assert ok
        return self.t["sensor_msgs/msg/CompressedImage"](
            header=self.header(stamp, FRAME_ID), format="rgb8; jpeg compressed bgr8",
            data=jpeg.reshape(-1).astype(np.uint8),
        )  # fmt: skip

    def camera_info(self, stamp: int, w: int, h: int):
        f = 0.9 * w
        k = np.array([f, 0, w / 2, 0, f, h / 2, 0, 0, 1], dtype=np.float64)
        r = np.eye(3).reshape(-1)
        p = np.array([f, 0, w / 2, 0, 0, f, h / 2, 0, 0, 0, 1, 0], dtype=np.float64)
        roi = self.t["sensor_msgs/msg/RegionOfInterest"](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
        )
        arrays = {"D": np.zeros(5), "K": k, "R": r, "P": p}
        if not self.ros1:
            arrays = {name.lower(): value for name, value in arrays.items()}
        return self.t["sensor_msgs/msg/CameraInfo"](
            header=self.header(stamp, FRAME_ID), height=h, width=w, distortion_model="plumb_bob",
            binning_x=0, binning_y=0, roi=roi, **arrays,
        )  # fmt: skip

    def tf(self, stamp: int, parent: str, child: str, xyz, rotation: Rotation):
        x, y, z, w = rotation.as_quat()
        transform = self.t["geometry_msgs/msg/Transform"](
            translation=self.t["geometry_msgs/msg/Vector3"](x=xyz[0], y=xyz[1], z=xyz[2]),
            rotation=self.t["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w),
        )
        stamped = self.t["geometry_msgs/msg/TransformStamped"](
            header=self.header(stamp, parent), child_frame_id=child, transform=transform
        )
        return self.t["tf2_msgs/msg/TFMessage"](transforms=[stamped])

    def serialize(self, msg, msgtype: str) -> bytes:
        if self.ros1:
            return bytes(self.store.serialize_ros1(msg, msgtype))
        return bytes(self.store.serialize_cdr(msg, msgtype))


def write_bag(path: Path, spec: BagSpec) -> Path:
    """Write the bag ``spec`` describes at ``path`` (rosbag2: a folder; ROS 1: a .bag file)."""
    ros1 = spec.storage == "ros1"
    m = _Messages(ros1)
    if ros1:
        writer = Writer1(path)
    else:
        plugin = StoragePlugin.MCAP if spec.storage == "mcap" else StoragePlugin.SQLITE3
        writer = Writer2(path, version=9, storage_plugin=plugin)
    writer.open()
    connections = {}

    def write(topic: str, msgtype: str, t: int, msg) -> None:
        if topic not in connections:
            connections[topic] = writer.add_connection(topic, msgtype, typestore=m.store)
        writer.write(connections[topic], t, m.serialize(msg, msgtype))

    kind = "CompressedImage" if spec.compressed else "Image"
    image_topic = f"{spec.namespace}/image_raw" + ("/compressed" if spec.compressed else "")
    if spec.tf:
        write("/tf_static", "tf2_msgs/msg/TFMessage", START_NS - 1, m.tf(
            START_NS, "base_link", FRAME_ID, (0.0, 0.0, CAMERA_HEIGHT), OPTICAL_IN_BASE
        ))  # fmt: skip
    for index in range(spec.frames):
        stamp = stamp_of(index, spec)
        if spec.tf:
            # TF logged just before the image it belongs to, as a robot publishes it.
            write("/tf", "tf2_msgs/msg/TFMessage", stamp, m.tf(
                stamp, "map", "base_link", base_in_map(index), Rotation.identity()
            ))  # fmt: skip
        if spec.camera_info:
            info = m.camera_info(stamp, spec.width, spec.height)
            write(f"{spec.namespace}/camera_info", "sensor_msgs/msg/CameraInfo", stamp, info)
        rgb = image_pixels(index, spec)
        msg = m.compressed(stamp, rgb) if spec.compressed else m.image(stamp, rgb)
        write(image_topic, f"sensor_msgs/msg/{kind}", stamp + 1000, msg)
        if spec.second_camera:
            write("/cam2/image_raw", "sensor_msgs/msg/Image", stamp + 2000, m.image(stamp, rgb))
    writer.close()
    return path


def truncate_mcap(bag: Path, keep_fraction: float) -> Path:
    """Cut the bag's .mcap file (and remove metadata.yaml), as a recorder killed mid-write."""
    mcap = next(bag.glob("*.mcap"))
    data = mcap.read_bytes()
    mcap.write_bytes(data[: int(len(data) * keep_fraction)])
    return mcap
