"""Everything the node publishes for one processed frame, and the latched model description.

``FramePublisher(node, options)`` creates and owns its publishers on ``node`` (as
``tf2_ros.TransformBroadcaster(node)`` does), so it needs nothing else of the node. Runs on the
inference thread. Each message is built completely before it is published; people whose
numbers are not all finite (or who lack a track id) are dropped and counted, never published.
Person ids are the pipeline's track ids: they name TF frames, colour markers and tie ~/hands and
~/world_bodies to ~/people.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pymafx_ros.config import OutputOptions
from pymafx_ros.geometry.body_frames import JOINT_SETS
from pymafx_ros.geometry.hemispheres import Hemispheres
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.msg import HandKeypointsArray, SmplxModelInfo, SmplxPeople
from pymafx_ros.pipeline.result import FrameResult, ModelInfo
from pymafx_ros.ros.marker_cdr import serialize_marker_array
from pymafx_ros.ros.markers import MarkerBuilder, colour_rgb
from pymafx_ros.ros.message_builders import (
    hands_message,
    is_publishable,
    model_info_message,
    people_message,
)
from pymafx_ros.ros.tf_builder import make_tf_sender, person_transforms
from pymafx_ros.ros.throttle import StampRateLimiter
from pymafx_ros.ros.world_frame import WorldFramePublisher

PEOPLE_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
# Reliable so that both reliable (RViz's default) and best-effort subscribers receive them.
MARKERS_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
OVERLAY_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
HANDS_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


class FramePublisher:
    """Publishes FrameResults as people, hands, world bodies, TF, markers and overlay on its own
    publishers."""

    def __init__(self, node: Node, options: OutputOptions | None = None) -> None:
        self._clock = node.get_clock()
        self._options = options = options or OutputOptions()
        self._people_pub = node.create_publisher(SmplxPeople, "~/people", PEOPLE_QOS)
        self._model_info_pub = node.create_publisher(SmplxModelInfo, "~/model_info", LATCHED_QOS)
        self._markers_pub = (
            node.create_publisher(MarkerArray, "~/markers", MARKERS_QOS)
            if options.markers_enable
            else None
        )
        self._overlay_pub = (
            node.create_publisher(Image, "~/overlay", OVERLAY_QOS)
            if options.overlay_enable
            else None
        )
        self._send_tf, self.tf_mechanism = (
            make_tf_sender(node) if options.tf_enable else (None, "disabled")
        )
        self._hands_pub = (
            node.create_publisher(HandKeypointsArray, "~/hands", HANDS_QOS)
            if options.hands_enable
            else None
        )
        self.world = (
            WorldFramePublisher(node, options.world_frame) if options.world_frame else None
        )
        self._hemispheres = Hemispheres()
        self._marker_limiter = StampRateLimiter(options.markers_max_rate_hz)
        self._markers: MarkerBuilder | None = None
        self._info: ModelInfo | None = None
        self._last_tf_stamp: int | None = None

    @property
    def ready(self) -> bool:
        """True once the model description is known (frames can be published)."""
        return self._info is not None

    def model_loaded(self, info: ModelInfo) -> None:
        """Publish the latched model description; frames can be published from now on."""
        self._markers = MarkerBuilder(
            info.faces, info.joint_parents, self._options.markers_mesh_decimation
        )
        header = Header(stamp=self._clock.now().to_msg())
        self._model_info_pub.publish(model_info_message(info, header))
        self._info = info

    def publish_frame(
        self, header: Header, rgb: np.ndarray, result: FrameResult
    ) -> tuple[int, int]:
        """Publish all outputs of one frame; returns (people published, people dropped)."""
        people = [p for p in result.people if is_publishable(p)]
        non_finite = len(result.people) - len(people) + result.dropped_non_finite
        ids = [p.track_id for p in people]
        stamp = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
        self._hemispheres.retain(ids)
        self._people_pub.publish(people_message(header, result, people, ids, self._hemispheres))
        if self._hands_pub is not None:
            self._hands_pub.publish(
                hands_message(
                    header,
                    people,
                    ids,
                    self._options.hands_wrist_frame,
                    result.smoothing,
                    self._hemispheres,
                )
            )
        if self.world is not None and self._info is not None:
            self.world.publish(header, people, ids, self._info.joint_names)
        # A camera repeating a stamp must not make tf2 see the same (child, stamp) twice.
        if self._send_tf is not None and people and stamp != self._last_tf_stamp:
            self._send_tf(self._transforms(header, people, ids))
            self._last_tf_stamp = stamp
        markers_wanted = self._markers_pub is not None and self._markers is not None
        if markers_wanted and self._marker_limiter.allow(stamp):
            markers = self._markers.build(header, people, ids)
            self._markers_pub.publish(serialize_marker_array(markers))
        if self._overlay_pub is not None and self._overlay_pub.get_subscription_count() > 0:
            self._overlay_pub.publish(self._overlay(header, rgb, result, people, ids))
        return len(people), non_finite

    def clear_markers(self) -> None:
        """Delete every marker this node drew (called when it stops)."""
        if self._markers_pub is not None and self._markers is not None:
            header = Header(stamp=self._clock.now().to_msg())
            publisher = self._markers_pub
            publisher.publish(serialize_marker_array(self._markers.delete_all(header)))
            # The node is about to go away: give reliable subscribers a moment to take it.
            publisher.wait_for_all_acked(Duration(seconds=1.0))

    def _transforms(self, header: Header, people: list[PersonResult], ids: list[str]):
        assert self._info is not None
        indices = JOINT_SETS[self._options.tf_joints]
        transforms = []
        for person, person_id in zip(people, ids, strict=True):
            transforms.extend(
                person_transforms(
                    header,
                    person,
                    person_id,
                    self._info.joint_names,
                    self._info.joint_parents,
                    indices,
                    self._options.tf_prefix,
                )
            )
        return transforms

    def _overlay(self, header, rgb, result: FrameResult, people, ids) -> Image:
        from pymafx_ros.pipeline.overlay import draw_people

        assert self._info is not None and self._markers is not None
        faces = None
        with_mesh = next((p.vertices for p in people if p.vertices is not None), None)
        if with_mesh is not None and self._options.markers_mesh_decimation > 0.0:
            decimator = self._markers.mesh_decimator(with_mesh)
            faces = decimator.faces
            people = [
                p if p.vertices is None else replace(p, vertices=decimator.centres(p.vertices))
                for p in people
            ]
        canvas = draw_people(
            rgb,
            people,
            result.intrinsics,
            self._info.joint_parents,
            faces,
            colours=[tuple(int(255 * c) for c in colour_rgb(i)) for i in ids],
            labels=ids,
            mesh_style="fill",
            with_details=False,
        )
        height, width = canvas.shape[:2]
        return Image(
            header=header,
            height=height,
            width=width,
            encoding="rgb8",
            is_bigendian=0,
            step=width * 3,
            data=canvas.tobytes(),
        )
