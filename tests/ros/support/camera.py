"""Test-side camera: publishes frames with unique stamps and waits for the node's answer."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, stamp_ns, start_fake_node, wait_until
from mini_tf import MiniTfBuffer
from pymafx_ros.msg import SmplxPeople
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from pymafx_ros.demo.sample_clip import sample_frames
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.ros.conversions import intrinsics_to_camera_info, rgb_to_image

FRAME_ID = "cam_optical"
SIZE = 256  # small frames: one DDS sample without much fragmentation
K = Intrinsics(250.0, 250.0, 128.0, 128.0)


class TestCamera:
    """Publishes on ``image`` / ``camera_info`` (under ``namespace``) like a driver would."""

    __test__ = False  # not a pytest class

    def __init__(self, probe: Probe, people: list[Any], namespace: str = "") -> None:
        self.probe = probe
        self.people = people
        self.image_pub = probe.publisher(Image, f"{namespace}/image")
        self.info_pub = probe.publisher(CameraInfo, f"{namespace}/camera_info")
        self.frames = sample_frames(8, SIZE)
        self.sent: list[int] = []

    def header(self, at_ns: int | None = None) -> Header:
        """Stamped now, or ``at_ns``, in the camera's frame."""
        header = Header(stamp=self.probe.node.get_clock().now().to_msg(), frame_id=FRAME_ID)
        if at_ns is not None:
            header.stamp.sec, header.stamp.nanosec = divmod(at_ns, 10**9)
        return header

    def send(
        self,
        rgb: np.ndarray | None = None,
        encoding: str = "rgb8",
        camera_info: Any = "calibrated",
        at_ns: int | None = None,
    ) -> int:
        """Publish one frame (+ CameraInfo unless None; "calibrated": K for the frame's size)
        stamped now or ``at_ns``; returns its stamp in ns."""
        header = self.header(at_ns)
        rgb = self.frames[len(self.sent) % len(self.frames)] if rgb is None else rgb
        if camera_info == "calibrated":
            camera_info = intrinsics_to_camera_info(K, rgb.shape[1], rgb.shape[0])
        if camera_info is not None:
            camera_info.header = header
            self.info_pub.publish(camera_info)
        self.image_pub.publish(rgb_to_image(rgb, encoding, header))
        self.sent.append(stamp_ns(header))
        return self.sent[-1]

    def round_trip(self, attempts: int = 5, wait_s: float = 5.0, **send_args: Any) -> Any:
        """Send until a people message answers one of the frames sent here (sensor-data QoS may
        lose a frame; a busy node answers a later one)."""
        stamps: set[int] = set()
        for _ in range(attempts):
            stamps.add(self.send(**send_args))
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                message = next(
                    (m for m in list(self.people) if stamp_ns(m.header) in stamps), None
                )
                if message is not None:
                    return message
                time.sleep(0.02)
        raise AssertionError(f"no people message after {attempts} frames")


@contextlib.contextmanager
def fake_node_graph(
    ros_args: list[str],
    log_path: Path,
    probe_name: str,
    topics: dict[str, tuple[type, str]] | None = None,
    with_tf: bool = False,
    **env: str,
) -> Iterator[SimpleNamespace]:
    """A test-double node process, a probe collecting its people, diagnostics and ``topics``
    (attribute -> (type, topic)) from before the first frame (and a TF buffer ``tf`` when
    ``with_tf``), and a camera whose first frame has been answered; the node is killed and the
    probe closed on exit."""
    node = start_fake_node(ros_args, log_path, **env)
    probe = Probe(probe_name)
    g = SimpleNamespace(node=node, probe=probe)
    if with_tf:
        g.tf = MiniTfBuffer(probe.node)
    g.people = probe.collect(SmplxPeople, "/pymafx/people")
    g.diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    for name, (msg_type, topic) in (topics or {}).items():
        setattr(g, name, probe.collect(msg_type, topic))
    g.camera = TestCamera(probe, g.people)
    try:
        wait_until(lambda: g.camera.image_pub.get_subscription_count() > 0, 60, "the node")
        g.camera.round_trip(attempts=20, wait_s=3.0)
        yield g
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()
