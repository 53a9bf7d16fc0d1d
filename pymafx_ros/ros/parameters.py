"""The node's parameters: declared once (description, range, choices), validated at start.

``PARAMETERS`` is the single table; ``config/pymafx.yaml`` mirrors its defaults (a test keeps them
equal). All parameters are read-only: they configure the model and the graph at start-up.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    ParameterException,
)
from rclpy.node import Node

from pymafx_ros.backends.names import BACKEND_CHOICES, PRECISION_CHOICES

TF_JOINT_SETS = ("body", "body_hands", "all")
WRIST_FRAMES = ("mano", "operator", "camera")  # pymafx_ros.pipeline.hands.WRIST_FRAMES
# Smoothing groups and their One Euro defaults (min_cutoff Hz, beta, d_cutoff Hz), as in
# pymafx_ros.tracking.person_filter.SmoothingConfig (a test keeps them equal; importing the
# core here would load torch before the node is up).
SMOOTHING_GROUPS = {
    "root": ((0.5, 1.5, 1.0), "the root (pelvis) rotation, rad/s"),
    "body": ((0.5, 1.5, 1.0), "body joint rotations 1-21, rad/s"),
    "hands": ((1.0, 1.5, 1.0), "finger joint rotations, rad/s"),
    "face": ((1.0, 1.0, 1.0), "jaw and eye rotations, rad/s"),
    "position": ((0.5, 8.0, 1.0), "root translation (joints follow the parameters), m/s"),
    "expression": ((1.0, 1.0, 1.0), "expression coefficients, units/s"),
}
_ONE_EURO_FIELDS = (
    ("min_cutoff", 0, "cutoff (Hz) of a still signal: lower = smoother", 0.001, 100.0),
    ("beta", 1, "cutoff rise per unit of speed: higher = less lag when moving", 0.0, 1000.0),
    ("d_cutoff", 2, "cutoff (Hz) of the speed estimate", 0.001, 100.0),
)
INPUT_TRANSPORTS = ("raw", "compressed")
INPUT_RELIABILITIES = ("best_effort", "reliable")
NODE_DETECTORS = ("mediapipe", "full_frame")
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
_FRAME_PREFIX_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*[_/]?)?$")


class ParameterError(ValueError):
    """A parameter value the node cannot start with; the message names it and the fix."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: default (its type is the parameter's type), description, bounds/choices."""

    name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "input_transport",
        "raw",
        "Image input: 'raw' subscribes sensor_msgs/Image on 'image'; 'compressed' subscribes "
        "sensor_msgs/CompressedImage on 'image/compressed'.",
        choices=INPUT_TRANSPORTS,
    ),
    ParamSpec(
        "input_reliability",
        "best_effort",
        "QoS reliability of the image and camera_info subscriptions: 'best_effort' (sensor "
        "data QoS, takes reliable and best-effort publishers) or 'reliable' (large raw images "
        "between processes: best effort loses most of their fragments, see the README).",
        choices=INPUT_RELIABILITIES,
    ),
    ParamSpec(
        "max_image_pixels",
        7680 * 4320,
        "Largest image accepted, in pixels (width x height; default 8K UHD). Bigger images, "
        "raw or compressed (read from the JPEG/PNG header before decoding), are refused with "
        "a warning: a few hundred corrupt bytes can claim gigapixels.",
        low=1,
        high=2**30,
    ),
    ParamSpec(
        "default_fov_deg",
        60.0,
        "Horizontal field of view (degrees) of the default pinhole used while no calibrated "
        "CameraInfo (K[0] != 0) has arrived.",
        low=10.0,
        high=170.0,
    ),
    ParamSpec(
        "data_dir",
        "",
        "Directory with the SMPL-X/MANO/FLAME model files ('' = the bundled placeholders, whose "
        "poses are meaningless).",
    ),
    ParamSpec(
        "checkpoint",
        "",
        "PyMAF-X checkpoint file ('' = seeded placeholder weights, meaningless poses).",
    ),
    ParamSpec(
        "detector",
        "mediapipe",
        "Person front end: 'mediapipe' (bundled MediaPipe models) or 'full_frame' (the whole "
        "image is one person, e.g. an upstream crop).",
        choices=NODE_DETECTORS,
    ),
    ParamSpec("max_people", 1, "Most people processed per image.", low=1, high=10),
    ParamSpec(
        "min_person_score",
        0.5,
        "Detection score below which a person is ignored.",
        low=0.0,
        high=1.0,
    ),
    ParamSpec("device", "auto", "Torch device: 'auto', 'cpu', 'cuda' or 'cuda:N'."),
    ParamSpec(
        "num_threads",
        0,
        "CPU threads for inference (0 = the library default).",
        low=0,
        high=256,
    ),
    ParamSpec(
        "backend",
        "auto",
        "Inference engine: 'torch' (eager), 'onnxruntime', 'openvino' (exported programs, "
        "cached on disk; the first start builds them, minutes), 'tensorrt' (CUDA; engines "
        "built ahead of time with `pymafx-ros build-engines`; without one the node warns with "
        "the command and runs the next backend) or 'auto' (CUDA device: torch; CPU: "
        "openvino, else onnxruntime, else torch).",
        choices=BACKEND_CHOICES,
    ),
    ParamSpec(
        "precision",
        "fp32",
        "'fp32' (exact), 'bf16' (encoders in bf16 on CPUs with native bf16, AMX or "
        "AVX512-BF16; openvino and torch; joints move by millimetres), 'fp16' (tensorrt only: "
        "fp16 encoders, fp32 head) or 'auto' (tensorrt: fp16; CPU: bf16 where native; else "
        "fp32).",
        choices=PRECISION_CHOICES,
    ),
    ParamSpec(
        "build_engines_on_start",
        False,
        "backend tensorrt: build missing TensorRT engines while loading (minutes, progress in "
        "the log) instead of warning and running the next backend.",
    ),
    ParamSpec("tf.enable", True, "Publish a TF frame per person and joint on /tf."),
    ParamSpec(
        "tf.prefix",
        "",
        "Prefix of every published TF frame name, e.g. 'humans/' or 'cam1_'.",
    ),
    ParamSpec(
        "tf.joints",
        "body",
        "Joint frames published per person: 'body' (22), 'body_hands' (52) or 'all' (55).",
        choices=TF_JOINT_SETS,
    ),
    ParamSpec("markers.enable", True, "Publish mesh, skeleton and label markers on ~/markers."),
    ParamSpec(
        "markers.max_rate_hz",
        10.0,
        "Most marker arrays per second (keeps RViz fluid; 0 = every processed frame).",
        low=0.0,
        high=1000.0,
    ),
    ParamSpec(
        "markers.mesh_decimation",
        0.3,
        "Fraction of mesh triangles kept in the mesh marker and the overlay (1 = full mesh, "
        "0 = no mesh).",
        low=0.0,
        high=1.0,
    ),
    ParamSpec(
        "overlay.enable",
        True,
        "Publish ~/overlay (mesh and skeleton drawn on the image) while someone subscribes.",
    ),
    ParamSpec(
        "tracking.confirm_frames",
        2,
        "Detections in a row before a new person gets an id and is published (the first frame "
        "of a stream confirms at once).",
        low=1,
        high=100,
    ),
    ParamSpec(
        "tracking.max_missed_frames",
        10,
        "Frames a person who is not detected keeps their id (then the id ends for good).",
        low=0,
        high=1000,
    ),
    ParamSpec(
        "tracking.min_iou",
        0.2,
        "A detection may continue a track when its body box overlaps the track's predicted box "
        "at least this much ...",
        low=0.0,
        high=1.0,
    ),
    ParamSpec(
        "tracking.max_keypoint_distance",
        0.3,
        "... or when their body keypoints lie this close (mean distance per body-box side).",
        low=0.01,
        high=10.0,
    ),
    ParamSpec(
        "tracking.hand_on_threshold",
        0.3,
        "Hand visibility that hands a wrist to the hand expert (hysteresis: it goes back to the "
        "body only after tracking.hand_hold_frames frames unseen).",
        low=0.1,
        high=1.0,
    ),
    ParamSpec(
        "tracking.hand_hold_frames",
        3,
        "Frames a hand the detector lost stays with the hand expert, its box carried by the "
        "track (0 = the release's frame-by-frame switch).",
        low=0,
        high=100,
    ),
    ParamSpec(
        "smoothing.enable",
        True,
        "Filter each tracked person over time (causal One Euro filters driven by the image "
        "stamps); ~/people and ~/hands then carry filtered values and say so.",
    ),
    ParamSpec(
        "smoothing.average_betas",
        True,
        "Shape (betas): the mean over the track's life instead of each frame's estimate.",
    ),
    *(
        ParamSpec(
            f"smoothing.{group}.{field}",
            defaults_[index],
            f"One Euro {field} for {what}: {meaning}.",
            low=low,
            high=high,
        )
        for group, (defaults_, what) in SMOOTHING_GROUPS.items()
        for field, index, meaning, low, high in _ONE_EURO_FIELDS
    ),
    ParamSpec(
        "hands.enable",
        True,
        "Publish ~/hands: per person and side the wrist pose and 21 MediaPipe-order keypoints "
        "for retargeting.",
    ),
    ParamSpec(
        "hands.wrist_frame",
        "mano",
        "Frame of the wrist-relative keypoints: 'mano' (what dex-retargeting's retarget() takes), "
        "'operator' (its estimated hand frame) or 'camera' (camera axes).",
        choices=WRIST_FRAMES,
    ),
    ParamSpec(
        "world_frame",
        "",
        "Gravity-aligned TF frame (e.g. 'map', 'odom'): when set and TF connects it to the "
        "image frame at the image stamp, ~/world_bodies carries every body in it (per joint a "
        "global position and orientation, GMR's form). '' = not published.",
    ),
    ParamSpec(
        "diagnostics.period_s",
        1.0,
        "Period of the /diagnostics status (seconds).",
        low=0.1,
        high=60.0,
    ),
)


@dataclass(frozen=True)
class NodeParameters:
    """The validated parameter values (dots in names become underscores)."""

    input_transport: str
    input_reliability: str
    max_image_pixels: int
    default_fov_deg: float
    data_dir: str
    checkpoint: str
    detector: str
    max_people: int
    min_person_score: float
    device: str
    num_threads: int
    backend: str
    precision: str
    build_engines_on_start: bool
    tf_enable: bool
    tf_prefix: str
    tf_joints: str
    markers_enable: bool
    markers_max_rate_hz: float
    markers_mesh_decimation: float
    overlay_enable: bool
    diagnostics_period_s: float
    tracking: dict[str, Any]  # TrackingConfig.from_dict's form (tracking.* and smoothing.*)
    hands_enable: bool
    hands_wrist_frame: str
    world_frame: str


def defaults() -> dict[str, Any]:
    """Parameter name -> default value."""
    return {spec.name: spec.default for spec in PARAMETERS}


def _descriptor(spec: ParamSpec) -> ParameterDescriptor:
    text = spec.description
    if spec.choices:
        text += f" One of: {', '.join(spec.choices)}."
    descriptor = ParameterDescriptor(description=text, read_only=True)
    if isinstance(spec.default, bool) or spec.low is None:
        return descriptor
    if isinstance(spec.default, int):
        descriptor.integer_range = [
            IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=0)
        ]
    else:
        descriptor.floating_point_range = [
            FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)
        ]
    return descriptor


def _type_name(value: Any) -> str:
    return {bool: "bool", int: "integer", float: "double", str: "string"}[type(value)]


def declare_and_validate(node: Node) -> NodeParameters:
    """Declare every parameter on ``node`` and return the validated values.

    Raises ParameterError naming the parameter, the bad value and what is accepted.
    """
    values: dict[str, Any] = {}
    for spec in PARAMETERS:
        try:
            values[spec.name] = node.declare_parameter(
                spec.name, spec.default, _descriptor(spec)
            ).value
        except InvalidParameterTypeException as exc:
            hint = " (write 60.0, not 60)" if isinstance(spec.default, float) else ""
            raise ParameterError(
                f"parameter '{spec.name}' must be of type {_type_name(spec.default)}{hint}: {exc}"
            ) from None
        except InvalidParameterValueException:
            raise ParameterError(
                f"parameter '{spec.name}' is out of range: allowed "
                f"[{spec.low}, {spec.high}] (default {spec.default})"
            ) from None
        except ParameterException as exc:
            raise ParameterError(f"parameter '{spec.name}': {exc}") from None
    _reject_unknown_overrides(node)
    return validate(values)


def _reject_unknown_overrides(node: Node) -> None:
    # rclpy silently ignores overrides for undeclared names, so a typo in a YAML file would go
    # unnoticed; rclpy has no public accessor for the overrides, hence the guarded attribute.
    overrides = getattr(node, "_parameter_overrides", {}) or {}
    known = {spec.name for spec in PARAMETERS} | {"use_sim_time", "start_type_description_service"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; known: "
            f"{', '.join(spec.name for spec in PARAMETERS)}"
        )


def validate(values: dict[str, Any]) -> NodeParameters:
    """Check choices, ranges and paths of a name -> value mapping (all names required)."""
    for spec in PARAMETERS:
        value = values[spec.name]
        if spec.choices and value not in spec.choices:
            raise ParameterError(
                f"parameter '{spec.name}' is {value!r}; choose one of {', '.join(spec.choices)}"
            )
        if spec.low is not None and not spec.low <= value <= spec.high:
            raise ParameterError(
                f"parameter '{spec.name}' is {value}; allowed [{spec.low}, {spec.high}]"
            )
    if not _DEVICE_PATTERN.match(values["device"]):
        raise ParameterError(
            f"parameter 'device' is {values['device']!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        )
    if not _FRAME_PREFIX_PATTERN.match(values["tf.prefix"]):
        raise ParameterError(
            f"parameter 'tf.prefix' is {values['tf.prefix']!r}; it must start with a letter, "
            "contain only letters, digits, '_' and '/', and not start with '/' (TF frame ids)"
        )
    data_dir = os.path.expanduser(values["data_dir"])
    if data_dir and not os.path.isdir(data_dir):
        raise ParameterError(
            f"parameter 'data_dir' is {data_dir!r}, which is not a directory; point it at the "
            "PyMAF-X data/ folder (smpl/SMPLX_NEUTRAL_2020.npz, smpl_mean_params.npz, ...), or "
            "leave it '' for the placeholders"
        )
    checkpoint = os.path.expanduser(values["checkpoint"])
    if checkpoint and not os.path.isfile(checkpoint):
        raise ParameterError(
            f"parameter 'checkpoint' is {checkpoint!r}, which is not a file; point it at the "
            "PyMAF-X checkpoint, or leave it '' for the placeholder weights"
        )
    if not _FRAME_PREFIX_PATTERN.match(values["world_frame"]) or values["world_frame"].endswith(
        ("/", "_")
    ):
        raise ParameterError(
            f"parameter 'world_frame' is {values['world_frame']!r}; give a TF frame id such as "
            "'map' or 'odom' (letters, digits, '_' and '/', no leading '/'), or ''"
        )
    values = dict(values)
    tracking = _tracking_options(values)
    fields = {name.replace(".", "_"): value for name, value in values.items()}
    fields["data_dir"], fields["checkpoint"] = data_dir, checkpoint
    return NodeParameters(**fields, tracking=tracking)


def _tracking_options(values: dict[str, Any]) -> dict[str, Any]:
    """Take the tracking.* and smoothing.* values out of ``values`` as TrackingConfig's dict."""
    take = {
        name: values.pop(name)
        for name in list(values)
        if name.startswith(("tracking.", "smoothing."))
    }
    hands = {
        "on_threshold": take.pop("tracking.hand_on_threshold"),
        "hold_frames": take.pop("tracking.hand_hold_frames"),
    }
    tracker = {
        n.removeprefix("tracking."): v for n, v in take.items() if n.startswith("tracking.")
    }
    smoothing: dict[str, Any] = {
        "enable": take["smoothing.enable"],
        "average_betas": take["smoothing.average_betas"],
    }
    for group in SMOOTHING_GROUPS:
        smoothing[group] = {f: take[f"smoothing.{group}.{f}"] for f, *_ in _ONE_EURO_FIELDS}
    return {"tracker": tracker, "hands": hands, "smoothing": smoothing}
