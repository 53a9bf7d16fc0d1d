"""Everything the node publishes for one processed frame, and the latched model description.

Runs on the inference thread. Each message is built completely before it is published; people
whose numbers are not all finite (or who lack a track id) are dropped and counted, never
published. Person ids are the pipeline's track ids: they name TF frames and colour markers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from rclpy.duration import Duration
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from pymafx_ros.pipeline.result import FrameResult, ModelInfo, PersonResult
from pymafx_ros.ros.body_frames import JOINT_SETS
from pymafx_ros.ros.hemispheres import Hemispheres
from pymafx_ros.ros.marker_cdr import serialize_marker_array
from pymafx_ros.ros.markers import MarkerBuilder, colour_rgb
from pymafx_ros.ros.message_builders import (
    hands_message,
    is_publishable,
    model_info_message,
    people_message,
)
from pymafx_ros.ros.throttle import StampRateLimiter

if TYPE_CHECKING:
    from pymafx_ros.ros.node import PymafxNode


class FramePublisher:
    """Turns FrameResults into people, TF, markers and overlay messages on the node's topics."""

    def __init__(self, node: PymafxNode, tf_mechanism: str) -> None:
        self._node = node
        self._params = node.params
        self._tf_mechanism = tf_mechanism
        self._marker_limiter = StampRateLimiter(self._params.markers_max_rate_hz)
        self._hemispheres = Hemispheres()
        self._markers: MarkerBuilder | None = None
        self._info: ModelInfo | None = None
        self._last_timestamp_ms = -1
        self._last_tf_stamp: int | None = None
        self.ready = False

    def model_loaded(self, info: ModelInfo) -> None:
        """Publish the latched description; say loudly when the results will be meaningless."""
        self._info = info
        self._markers = MarkerBuilder(
            info.faces, info.joint_parents, self._params.markers_mesh_decimation
        )
        header = Header(stamp=self._node.get_clock().now().to_msg())
        self._node.model_info_pub.publish(model_info_message(info, header))
        self._node.stats.set_state(
            "loaded",
            backend="torch",
            tf=self._tf_mechanism,
            assets_source=info.assets_source,
            weights_source=info.weights_source,
            placeholder_assets=str(info.placeholder_assets),
            placeholder_weights=str(info.placeholder_weights),
        )
        log = self._node.get_logger()
        if info.placeholder_assets or info.placeholder_weights:
            log.error(
                "PLACEHOLDER "
                + " and ".join(
                    name
                    for name, used in (
                        ("assets", info.placeholder_assets),
                        ("weights", info.placeholder_weights),
                    )
                    if used
                )
                + " in use: the published poses are MEANINGLESS. For real results set "
                "data_dir:=<PyMAF-X data/ folder with smpl/SMPLX_NEUTRAL_2020.npz ...> and "
                "checkpoint:=<PyMAF-X checkpoint file> (see the README, 'Assets')."
            )
        log.info(f"model loaded (assets: {info.assets_source}; weights: {info.weights_source})")
        self.ready = True

    def next_timestamp_ms(self, header: Header) -> int:
        """The image stamp in ms, forced strictly increasing (video detectors require it)."""
        stamp_ms = (int(header.stamp.sec) * 1000) + int(header.stamp.nanosec) // 1_000_000
        self._last_timestamp_ms = max(stamp_ms, self._last_timestamp_ms + 1)
        return self._last_timestamp_ms

    def publish_frame(self, header: Header, rgb: np.ndarray, result: FrameResult):
        """Publish all outputs of one frame; returns (people published, people dropped)."""
        people = [p for p in result.people if is_publishable(p)]
        non_finite = len(result.people) - len(people) + result.dropped_non_finite
        ids = [p.track_id for p in people]
        node = self._node
        stamp = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
        self._hemispheres.retain(ids)
        node.people_pub.publish(people_message(header, result, people, ids, self._hemispheres))
        if node.hands_pub is not None:
            wrist_frame = self._params.hands_wrist_frame
            node.hands_pub.publish(
                hands_message(
                    header, people, ids, wrist_frame, result.smoothing, self._hemispheres
                )
            )
        if node.world is not None and self._info is not None:
            node.world.publish(header, people, ids, self._info.joint_names)
            node.stats.set_world(node.world.status, node.world.ok)
        node.stats.tracking_seen(result.smoothing, result.tracks)
        # A camera repeating a stamp must not make tf2 see the same (child, stamp) twice.
        if node.send_tf is not None and people and stamp != self._last_tf_stamp:
            node.send_tf(self._transforms(header, people, ids))
            self._last_tf_stamp = stamp
        markers_wanted = node.markers_pub is not None and self._markers is not None
        if markers_wanted and self._marker_limiter.allow(stamp):
            markers = self._markers.build(header, people, ids)
            node.markers_pub.publish(serialize_marker_array(markers))
        if node.overlay_pub is not None and node.overlay_pub.get_subscription_count() > 0:
            node.overlay_pub.publish(self._overlay(header, rgb, result, people, ids))
        return len(people), non_finite

    def clear_markers(self) -> None:
        """Delete every marker this node drew (called when it stops)."""
        if self._node.markers_pub is not None and self._markers is not None:
            header = Header(stamp=self._node.get_clock().now().to_msg())
            publisher = self._node.markers_pub
            publisher.publish(serialize_marker_array(self._markers.delete_all(header)))
            # The node is about to go away: give reliable subscribers a moment to take it.
            publisher.wait_for_all_acked(Duration(seconds=1.0))

    def _transforms(self, header: Header, people: list[PersonResult], ids: list[str]):
        from pymafx_ros.ros.tf_builder import person_transforms

        assert self._info is not None
        indices = JOINT_SETS[self._params.tf_joints]
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
                    self._params.tf_prefix,
                )
            )
        return transforms

    def _overlay(self, header, rgb, result: FrameResult, people, ids) -> Image:
        from pymafx_ros.pipeline.overlay import draw_people

        assert self._info is not None and self._markers is not None
        faces = None
        with_mesh = next((p.vertices for p in people if p.vertices is not None), None)
        if with_mesh is not None and self._params.markers_mesh_decimation > 0.0:
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
