"""TF for people: ``body_<id>`` under the image frame, then one frame per joint along the tree.

Frame names: ``{prefix}body_{id}`` (REP-155 root) and ``{prefix}{smplx joint name}_{id}``; all
stamped with the image stamp, one transform per child per frame (no TF_REPEATED_DATA).
Also the sender: tf2_ros's TransformBroadcaster where importable, else TFMessage on /tf.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
from rclpy.node import Node
from rclpy.qos import QoSProfile
from std_msgs.msg import Header

from pymafx_ros.geometry.body_frames import (
    body_orientations,
    local_transforms,
    published_parents,
    quaternions_xyzw,
)
from pymafx_ros.geometry.person import PersonResult


def body_frame_name(prefix: str, person_id: str) -> str:
    return f"{prefix}body_{person_id}"


def joint_frame_name(prefix: str, joint_name: str, person_id: str) -> str:
    return f"{prefix}{joint_name}_{person_id}"


def _transform(parent: str, child: str, header: Header, t: np.ndarray, q: np.ndarray):
    return TransformStamped(
        header=Header(stamp=header.stamp, frame_id=parent),
        child_frame_id=child,
        transform=Transform(
            translation=Vector3(x=float(t[0]), y=float(t[1]), z=float(t[2])),
            rotation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])),
        ),
    )


def person_transforms(
    header: Header,
    person: PersonResult,
    person_id: str,
    joint_names: Sequence[str],
    joint_parents: Sequence[int],
    joint_indices: Sequence[int],
    prefix: str = "",
) -> list[TransformStamped]:
    """The root transform (image frame -> body_<id>) and one per listed joint."""
    orientations = body_orientations(person.joint_rotations)
    body = body_frame_name(prefix, person_id)
    root_q = quaternions_xyzw(orientations[:1])[0]
    out = [_transform(header.frame_id, body, header, person.joints[0], root_q)]
    translations, rotations = local_transforms(
        person.joints, orientations, joint_parents, joint_indices
    )
    quats = quaternions_xyzw(rotations)
    parents = published_parents(joint_parents, joint_indices)
    for k, (joint, parent) in enumerate(zip(joint_indices, parents, strict=True)):
        parent_frame = (
            body if parent < 0 else joint_frame_name(prefix, joint_names[parent], person_id)
        )
        child = joint_frame_name(prefix, joint_names[joint], person_id)
        out.append(_transform(parent_frame, child, header, translations[k], quats[k]))
    return out


def make_tf_sender(node: Node) -> tuple[Callable[[list[TransformStamped]], None], str]:
    """A function sending transforms on /tf, and the name of the mechanism used."""
    try:
        from tf2_ros import TransformBroadcaster
    except ImportError:
        pass
    else:
        broadcaster = TransformBroadcaster(node)
        return broadcaster.sendTransform, "tf2_ros.TransformBroadcaster"
    # tf2_ros is not on PyPI; its broadcaster is just this publisher (same topic and QoS).
    from tf2_msgs.msg import TFMessage

    publisher = node.create_publisher(TFMessage, "/tf", QoSProfile(depth=100))

    def send(transforms: list[TransformStamped]) -> None:
        publisher.publish(TFMessage(transforms=transforms))

    return send, "tf2_msgs/TFMessage publisher"
