"""The node's parameters for offline runs: its YAML file (``--params``) and command-line values,
checked by the node's own declarations and validation (``ros/parameters.py``).

A parameter file is read the way ``--params-file`` is for the node: every ``ros__parameters``
block whose key matches the node (``/**``, ``/**/pymafx``, ``pymafx``, ``/ns/pymafx``), nested
keys joined with dots. Types are as strict as rclpy's: ``60`` for a double is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pymafx_ros.config import OFFLINE_MAX_PEOPLE, NodeConfig
from pymafx_ros.ros.node import NODE_NAME
from pymafx_ros.ros.parameters import ParameterError, defaults, parameter_specs, validate

# The node parameters the offline tools set differently when no file or flag says otherwise:
# people are found as `pymafx-ros process` finds them (up to 10, not the node's 1).
OFFLINE_DEFAULTS: dict[str, Any] = {"max_people": OFFLINE_MAX_PEOPLE}
_NON_NODE = {"use_sim_time", "start_type_description_service"}


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'tf': {'enable': True}} -> {'tf.enable': True} (ROS joins nested names with dots)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _matches_node(key: str) -> bool:
    key = str(key)
    return key in ("/**", NODE_NAME, f"/{NODE_NAME}") or key.endswith(f"/{NODE_NAME}")


def read_params_file(path: Path) -> dict[str, Any]:
    """The node's parameter values in a ROS 2 YAML parameter file (name -> value)."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ParameterError(f"{path}: cannot read the parameter file ({error})") from None
    if not isinstance(document, dict):
        raise ParameterError(f"{path}: not a ROS 2 parameter file (no node keys)")
    values: dict[str, Any] = {}
    for key, block in document.items():
        if not _matches_node(key):
            continue
        if not isinstance(block, dict) or not isinstance(block.get("ros__parameters"), dict):
            raise ParameterError(f"{path}: '{key}' has no 'ros__parameters' mapping")
        values.update(_flatten(block["ros__parameters"]))
    if not values and document:
        raise ParameterError(
            f"{path}: no block for the node '{NODE_NAME}' (keys: {', '.join(map(str, document))})"
        )
    return values


def _check_types(values: dict[str, Any], source: str) -> None:
    """Refuse unknown names and values of another type, as the node does at start-up."""
    specs = {spec.name: spec for spec in parameter_specs()}
    unknown = sorted(set(values) - set(specs) - _NON_NODE)
    if unknown:
        raise ParameterError(
            f"{source}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(specs)}"
        )
    for name, value in values.items():
        if name in _NON_NODE:
            continue
        expected = type(specs[name].parameter_default)
        if type(value) is not expected:
            hint = " (write 60.0, not 60)" if expected is float else ""
            raise ParameterError(
                f"{source}: parameter '{name}' must be of type {expected.__name__}{hint}, "
                f"got {value!r}"
            )


def node_parameters(
    params_file: Path | None = None, overrides: dict[str, Any] | None = None
) -> NodeConfig:
    """The node's validated config: its defaults, then the offline defaults, the file's
    values and ``overrides`` (command-line flags, node parameter names), in that order."""
    values = {**defaults(), **OFFLINE_DEFAULTS}
    if params_file is not None:
        from_file = read_params_file(params_file)
        _check_types(from_file, str(params_file))
        values.update({k: v for k, v in from_file.items() if k not in _NON_NODE})
    if overrides:
        _check_types(overrides, "command line")
        values.update(overrides)
    return validate(values)
