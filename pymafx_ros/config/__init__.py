"""Every option of the pipeline, tracking, smoothing and the node, typed, torch-free.

Each option is a dataclass field with its default, a one-line description and what it accepts
(choices, range, pattern or an existing path), checked by one function that names the option,
the bad value and what is accepted. The node's parameter declarations, ``config/pymafx.yaml``,
the README's parameter table and the offline CLI's flags all derive from these classes.
Only the standard library is imported here: the node checks its parameters before torch loads.
"""

from pymafx_ros.config.choices import (
    BACKEND_CHOICES,
    BACKEND_NAMES,
    DEFAULT_FOV_DEG,
    DETECTOR_KINDS,
    DEVICE_PATTERN,
    EXPERT_SETS,
    FOV_RANGE_DEG,
    NODE_DETECTORS,
    OFFLINE_MAX_PEOPLE,
    PRECISION_CHOICES,
    PRECISIONS,
    SMOOTHING_GROUPS,
    TF_JOINT_SETS,
    WRIST_FRAMES,
)
from pymafx_ros.config.node import InputOptions, NodeConfig, OutputOptions
from pymafx_ros.config.options import (
    ConfigError,
    Option,
    OptionSpec,
    check_value,
    find,
    parameter_defaults,
    validate,
    walk,
    with_values,
)
from pymafx_ros.config.pipeline import PipelineConfig
from pymafx_ros.config.tracking import (
    HandGateConfig,
    OneEuroParams,
    SmoothingConfig,
    TrackerConfig,
    TrackingConfig,
)

__all__ = [
    "BACKEND_CHOICES",
    "BACKEND_NAMES",
    "DEFAULT_FOV_DEG",
    "DETECTOR_KINDS",
    "DEVICE_PATTERN",
    "EXPERT_SETS",
    "FOV_RANGE_DEG",
    "NODE_DETECTORS",
    "OFFLINE_MAX_PEOPLE",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "SMOOTHING_GROUPS",
    "TF_JOINT_SETS",
    "WRIST_FRAMES",
    "ConfigError",
    "HandGateConfig",
    "InputOptions",
    "NodeConfig",
    "OneEuroParams",
    "Option",
    "OptionSpec",
    "OutputOptions",
    "PipelineConfig",
    "SmoothingConfig",
    "TrackerConfig",
    "TrackingConfig",
    "check_value",
    "find",
    "parameter_defaults",
    "validate",
    "walk",
    "with_values",
]
