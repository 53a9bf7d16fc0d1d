"""~/world_bodies: the people in a gravity-aligned TF frame, in the form GMR retargets.

Owns its TF listener (``/tf`` and ``/tf_static`` into a ``TfBuffer``; PyPI has no tf2_ros) and
its publisher. The camera-to-world transform is looked up at the image stamp, never "latest";
when it is missing nothing is published and :attr:`status` says why, for the diagnostics.
"""

from __future__ import annotations

from collections.abc import Sequence

from geometry_msgs.msg import Point, Quaternion
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage

from pymafx_ros.geometry.hemispheres import Hemispheres
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.geometry.tf_buffer import TfBuffer, TransformUnavailableError
from pymafx_ros.msg import WorldBodies, WorldBody
from pymafx_ros.pipeline.world_body import body_in_world

WORLD_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
TF_STATIC_QOS = QoSProfile(
    depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)


def _stamp_ns(header: Header) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


class WorldFramePublisher:
    """Listens to TF and publishes ``~/world_bodies`` in ``world_frame``."""

    def __init__(self, node: Node, world_frame: str) -> None:
        self.world_frame = world_frame
        self.buffer = TfBuffer()
        self.status = f"waiting for a transform from the image frame to '{world_frame}'"
        self.ok = False
        self._hemispheres = Hemispheres()
        self._publisher = node.create_publisher(WorldBodies, "~/world_bodies", WORLD_QOS)
        node.create_subscription(TFMessage, "/tf", self._on_tf, TF_QOS)
        node.create_subscription(
            TFMessage, "/tf_static", lambda msg: self._on_tf(msg, static=True), TF_STATIC_QOS
        )

    def _on_tf(self, msg: TFMessage, static: bool = False) -> None:
        for transform in msg.transforms:
            t, q = transform.transform.translation, transform.transform.rotation
            self.buffer.add(
                transform.header.frame_id,
                transform.child_frame_id,
                _stamp_ns(transform.header),
                [t.x, t.y, t.z],
                [q.x, q.y, q.z, q.w],
                static=static,
            )

    def publish(
        self,
        header: Header,
        people: Sequence[PersonResult],
        ids: Sequence[str],
        joint_names: Sequence[str],
    ) -> bool:
        """Publish the people of one image in the world frame; False (and :attr:`status` says
        why) when TF cannot give the image frame in the world frame at the image's stamp."""
        try:
            pose = self.buffer.lookup(self.world_frame, header.frame_id, _stamp_ns(header))
        except TransformUnavailableError as exc:
            self.ok, self.status = False, f"not published: {exc}"
            return False
        bodies = []
        self._hemispheres.retain(ids)
        for person, person_id in zip(people, ids, strict=True):
            body = body_in_world(person, pose.rotation, pose.translation)
            wxyz = body.quaternions_wxyz
            xyzw = self._hemispheres.keep(("world", person_id), wxyz[:, [1, 2, 3, 0]])
            bodies.append(
                WorldBody(
                    id=person_id,
                    positions=[Point(x=x, y=y, z=z) for x, y, z in body.positions.tolist()],
                    orientations=[Quaternion(x=x, y=y, z=z, w=w) for x, y, z, w in xyzw.tolist()],
                )
            )
        world_header = Header(stamp=header.stamp, frame_id=self.world_frame)
        self._publisher.publish(
            WorldBodies(header=world_header, joint_names=list(joint_names), bodies=bodies)
        )
        self.ok, self.status = True, f"publishing in '{self.world_frame}'"
        return True
