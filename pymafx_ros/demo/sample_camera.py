"""A stand-in camera driver: publishes the sample clip as sensor_msgs/Image + CameraInfo.

Like a driver it stamps each frame with the acquisition (publish) time, uses one optical frame id
and reliable QoS (REP-2003 for drivers). Stops after ``--duration`` seconds or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from pymafx_ros.demo.sample_clip import sample_frames, sample_intrinsics
from pymafx_ros.ros.conversions import ENCODINGS, intrinsics_to_camera_info, rgb_to_image

DRIVER_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sample_camera", description=__doc__)
    parser.add_argument("--rate", type=float, default=15.0, help="frames per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to publish")
    parser.add_argument("--frames", type=int, default=30, help="distinct frames in the loop")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--encoding", default="rgb8", choices=sorted(ENCODINGS))
    parser.add_argument("--frame-id", default="camera_color_optical_frame")
    parser.add_argument("--fov-deg", type=float, default=55.0, help="horizontal field of view")
    parser.add_argument(
        "--camera-info", choices=("calibrated", "uncalibrated", "none"), default="calibrated"
    )
    parser.add_argument("--image-topic", default="image")
    parser.add_argument("--camera-info-topic", default="camera_info")
    parser.add_argument(
        "--wait-subscribers", type=float, default=10.0, help="seconds to wait for a subscriber"
    )
    return parser.parse_args(argv)


class SampleCamera(Node):
    """Publishes pre-built messages at a fixed rate from its own loop."""

    def __init__(self, options: argparse.Namespace) -> None:
        super().__init__("sample_camera")
        self.options = options
        self.image_pub = self.create_publisher(Image, options.image_topic, DRIVER_QOS)
        self.info_pub = self.create_publisher(CameraInfo, options.camera_info_topic, DRIVER_QOS)
        frames = sample_frames(options.frames, options.size)
        self.images = [rgb_to_image(f, options.encoding) for f in frames]
        k = sample_intrinsics(options.size, options.size, options.fov_deg)
        self.camera_info = intrinsics_to_camera_info(k, options.size, options.size)
        if options.camera_info == "uncalibrated":
            self.camera_info.k = [0.0] * 9
        self.published = 0

    def wait_for_subscriber(self, stop: threading.Event) -> bool:
        deadline = time.monotonic() + self.options.wait_subscribers
        while time.monotonic() < deadline and not stop.is_set():
            if self.image_pub.get_subscription_count() > 0:
                return True
            time.sleep(0.05)
        return False

    def run(self, stop: threading.Event) -> None:
        period = 1.0 / self.options.rate
        start = time.monotonic()
        next_time = start
        while not stop.is_set() and time.monotonic() - start < self.options.duration:
            header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.options.frame_id)
            image = self.images[self.published % len(self.images)]
            image.header = header
            self.image_pub.publish(image)
            if self.options.camera_info != "none":
                self.camera_info.header = header
                self.info_pub.publish(self.camera_info)
            self.published += 1
            next_time += period
            stop.wait(max(0.0, next_time - time.monotonic()))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    options = parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    node = SampleCamera(options)
    try:
        if not node.wait_for_subscriber(stop):
            node.get_logger().warning("no subscriber on the image topic yet; publishing anyway")
        start = time.monotonic()
        node.run(stop)
        elapsed = time.monotonic() - start
        print(
            f"sample_camera: published {node.published} frames in {elapsed:.1f} s "
            f"({node.published / max(elapsed, 1e-9):.1f} Hz)",
            flush=True,
        )
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
