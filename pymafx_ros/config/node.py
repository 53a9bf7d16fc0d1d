"""The node's own options: image input, what is published besides ~/people, diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymafx_ros.config.choices import (
    FRAME_ID_PATTERN,
    FRAME_ID_RULE,
    FRAME_PREFIX_PATTERN,
    FRAME_PREFIX_RULE,
    INPUT_RELIABILITIES,
    INPUT_TRANSPORTS,
    TF_JOINT_SETS,
    WRIST_FRAMES,
)
from pymafx_ros.config.options import nested, option, validate, with_values
from pymafx_ros.config.pipeline import PipelineConfig, check_experts


@dataclass(frozen=True)
class InputOptions:
    """How images arrive and which are refused."""

    input_transport: str = option(
        "raw",
        "subscribe `image` (sensor_msgs/Image, `raw`) or `image/compressed` "
        "(sensor_msgs/CompressedImage, `compressed`)",
        choices=INPUT_TRANSPORTS,
    )
    input_reliability: str = option(
        "best_effort",
        "QoS reliability of the `image` and `camera_info` subscriptions: best effort "
        "(sensor-data QoS) takes reliable and best-effort publishers; for large raw images "
        "between processes use `reliable`: with the default Fast DDS settings a best-effort "
        "subscription lost 94 % of 1920x1080 rgb8 frames at 60 Hz here, a reliable one a third",
        choices=INPUT_RELIABILITIES,
    )
    max_image_pixels: int = option(
        7680 * 4320,
        "largest image accepted (width x height; default 8K UHD, 7680 x 4320); bigger ones are "
        "refused with a warning, compressed ones from their JPEG/PNG header before anything is "
        "decoded (a few hundred corrupt bytes can claim 30000 x 30000 pixels)",
        low=1,
        high=2**30,
    )


@dataclass(frozen=True)
class OutputOptions:
    """What is published besides ~/people and ~/model_info."""

    tf_enable: bool = option(
        True, "publish the TF tree (`body_<id>`, then joint frames)", name="tf.enable"
    )
    tf_prefix: str = option(
        "",
        "prefix of every published TF frame, e.g. `humans/` or `cam1_`",
        pattern=FRAME_PREFIX_PATTERN,
        rule=FRAME_PREFIX_RULE,
        accepts="TF frame syntax, no leading `/`",
        name="tf.prefix",
    )
    tf_joints: str = option(
        "body",
        "joint frames published per person: `body` (22), `body_hands` (52) or `all` (55)",
        choices=TF_JOINT_SETS,
        name="tf.joints",
    )
    markers_enable: bool = option(
        True, "publish mesh, skeleton and label markers on `~/markers`", name="markers.enable"
    )
    markers_max_rate_hz: float = option(
        10.0,
        "most marker arrays per second of image time (keeps RViz fluid; 0 = every frame)",
        low=0.0,
        high=1000.0,
        name="markers.max_rate_hz",
    )
    markers_mesh_decimation: float = option(
        0.3,
        "fraction of mesh triangles kept in the mesh marker and the overlay (vertex "
        "clustering; 1 = full mesh, 0 = no mesh)",
        low=0.0,
        high=1.0,
        name="markers.mesh_decimation",
    )
    overlay_enable: bool = option(
        True,
        "offer `~/overlay`, mesh and skeleton drawn on the image (computed only while subscribed)",
        name="overlay.enable",
    )
    hands_enable: bool = option(
        True,
        "publish `~/hands`: per person and side the wrist pose and 21 MediaPipe-order "
        "keypoints for retargeting",
        name="hands.enable",
    )
    hands_wrist_frame: str = option(
        "mano",
        "frame of the wrist-relative keypoints: `mano` (dex-retargeting's `retarget()` "
        "input), `operator` (its estimated hand frame) or `camera` (camera axes)",
        choices=WRIST_FRAMES,
        name="hands.wrist_frame",
    )
    world_frame: str = option(
        "",
        "gravity-aligned TF frame (`map`, `odom`, ...): when TF connects it to the image frame "
        "at the image stamp, `~/world_bodies` carries every body in it (per joint a global "
        'position and orientation, GMR\'s form); `""` = not published',
        pattern=FRAME_ID_PATTERN,
        rule=FRAME_ID_RULE,
        accepts="TF frame id",
    )


@dataclass(frozen=True)
class NodeConfig:
    """Every node parameter, typed: input, pipeline, outputs, diagnostics."""

    input: InputOptions = nested(InputOptions, "")
    pipeline: PipelineConfig = nested(PipelineConfig, "")
    output: OutputOptions = nested(OutputOptions, "")
    diagnostics_period_s: float = option(
        1.0,
        "period of the `/diagnostics` status (seconds)",
        low=0.1,
        high=60.0,
        name="diagnostics.period_s",
    )

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any]) -> NodeConfig:
        """The node's config from parameter name -> value (missing names keep their default),
        validated with the node's choices; raises ConfigError naming the first bad one."""
        config = with_values(cls(), values)
        check_experts(config.pipeline.experts)
        validate(config, node=True)
        return config
