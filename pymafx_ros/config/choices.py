"""Every choice list, range and pattern of an option, defined once (stdlib only).

The modules that use an option's values import them from here, so a list cannot drift from
what the node accepts.
"""

from __future__ import annotations

import re

# Front ends: 'external' takes boxes per call, which a ROS topic does not carry.
DETECTOR_KINDS = ("mediapipe", "full_frame", "external")
NODE_DETECTORS = ("mediapipe", "full_frame")

# torch_compile: torch.compile (inductor) of the model, CUDA graphs on a GPU, no TensorRT.
BACKEND_NAMES = ("torch", "torch_compile", "onnxruntime", "openvino", "tensorrt")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)
# fp16: the encoders of tensorrt, torch_compile and torch on CUDA; bf16: the CPU engines';
# int8: OpenVINO's encoders quantized after training (NNCF) on a calibration set.
PRECISIONS = ("fp32", "bf16", "fp16", "int8")
PRECISION_CHOICES = ("auto", *PRECISIONS)

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
DEVICE_RULE = "use auto, cpu, cuda or cuda:N"

DEFAULT_FOV_DEG = 60.0
# Offline runs (`pymafx-ros process`, `process-bag`) find everyone, as the official demo
# processes every detected person; the node keeps max_people 1 for speed.
OFFLINE_MAX_PEOPLE = 10
# 10-170 deg, not the 1-179 the pinhole formula survives: below 10 deg the default focal length
# is a telephoto no uncalibrated webcam has, above 170 deg tan() explodes and the lift places
# people metres off; both mean a typo, so the node and the core refuse them alike.
FOV_RANGE_DEG = (10.0, 170.0)

# The experts PyMAF-X runs: the body always; the hand and the face experts can be left out (a
# left-out part is published with the release's neutral values and flagged not estimated).
EXPERT_SETS = ("body,hands,face", "body,hands", "body")

INPUT_TRANSPORTS = ("raw", "compressed")
INPUT_RELIABILITIES = ("best_effort", "reliable")
TF_JOINT_SETS = ("body", "body_hands", "all")
WRIST_FRAMES = ("mano", "operator", "camera")

# One Euro filter groups: (min_cutoff Hz, beta, d_cutoff Hz) defaults measured at 30 Hz (>= 60 %
# less jitter, a step followed within 3 frames) and what each group filters.
SMOOTHING_GROUPS = {
    "root": ((0.5, 1.5, 1.0), "root (pelvis) rotation (rad/s)"),
    "body": ((0.5, 1.5, 1.0), "body joint rotations 1-21 (rad/s)"),
    "hands": ((1.0, 1.5, 1.0), "finger rotations (rad/s)"),
    "face": ((1.0, 1.0, 1.0), "jaw and eye rotations (rad/s)"),
    "position": ((0.5, 8.0, 1.0), "root translation; joints follow the parameters (m/s)"),
    "expression": ((1.0, 1.0, 1.0), "expression coefficients"),
}

# TF frame ids: segments start with a letter, '/' between them, no leading '/' (tf2 rejects it).
FRAME_PREFIX_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*[_/]?)?$")
FRAME_PREFIX_RULE = (
    "it must start with a letter, contain only letters, digits, '_' and '/', and not start "
    "with '/' (TF frame ids)"
)
# A whole frame id: as a prefix, but it may not end in '/' or '_' (that is a prefix).
FRAME_ID_PATTERN = re.compile(r"^(([A-Za-z][A-Za-z0-9_]*/)*[A-Za-z]([A-Za-z0-9_]*[A-Za-z0-9])?)?$")
FRAME_ID_RULE = (
    "give a TF frame id such as 'map' or 'odom' (letters, digits, '_' and '/', no leading '/'), "
    "or ''"
)
