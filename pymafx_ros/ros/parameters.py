"""The node's parameters, declared from ``pymafx_ros.config`` and checked there.

Every name, type, default, description, range and choice list comes from the config's
``NodeConfig`` (``config/pymafx.yaml`` and the README table mirror it; tests keep them equal).
All parameters are read-only: they configure the model and the graph at start-up.
"""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    ParameterException,
)
from rclpy.node import Node

from pymafx_ros.config import ConfigError, NodeConfig, OptionSpec, walk

# rclpy's own parameters, which a launch file or the command line may set too.
_ROS_PARAMETERS = {"use_sim_time", "start_type_description_service"}


class ParameterError(ConfigError):
    """A parameter value the node cannot start with; the message names it and the fix."""


def parameter_specs() -> list[OptionSpec]:
    """The options the node declares as parameters, in declaration order."""
    return [spec for spec in walk(NodeConfig()) if spec.option.node]


def defaults() -> dict[str, Any]:
    """Parameter name -> default value."""
    return {spec.name: spec.parameter_default for spec in parameter_specs()}


def descriptor(spec: OptionSpec) -> ParameterDescriptor:
    """The read-only descriptor of ``spec``: description, choices, and its range if numeric."""
    opt = spec.option
    # Backticks mark names in the README; `ros2 param describe` shows plain text.
    text = spec.description.replace("`", "")
    choices = opt.node_choices or opt.choices
    if choices:
        text += f". One of: {', '.join(choices)}."
    result = ParameterDescriptor(description=text, read_only=True)
    if opt.rule:
        result.additional_constraints = opt.rule
    if opt.low is None:
        return result
    if spec.type_name == "integer":
        result.integer_range = [IntegerRange(from_value=int(opt.low), to_value=int(opt.high))]
    else:
        result.floating_point_range = [
            FloatingPointRange(from_value=float(opt.low), to_value=float(opt.high))
        ]
    return result


def declare_and_validate(node: Node) -> NodeConfig:
    """Declare every parameter on ``node`` and return the validated config.

    Raises ParameterError naming the parameter, the bad value and what is accepted.
    """
    values: dict[str, Any] = {}
    for spec in parameter_specs():
        default = spec.parameter_default
        try:
            values[spec.name] = node.declare_parameter(spec.name, default, descriptor(spec)).value
        except InvalidParameterTypeException as exc:
            hint = " (write 60.0, not 60)" if isinstance(default, float) else ""
            raise ParameterError(
                f"parameter '{spec.name}' must be of type {spec.type_name}{hint}: {exc}"
            ) from None
        except InvalidParameterValueException:
            opt = spec.option
            raise ParameterError(
                f"parameter '{spec.name}' is out of range: allowed "
                f"[{opt.low}, {opt.high}] (default {default})"
            ) from None
        except ParameterException as exc:
            raise ParameterError(f"parameter '{spec.name}': {exc}") from None
    _reject_unknown_overrides(node)
    return validate(values)


def _reject_unknown_overrides(node: Node) -> None:
    # rclpy silently ignores overrides for undeclared names, so a typo in a YAML file would go
    # unnoticed; rclpy has no public accessor for the overrides, hence the guarded attribute.
    overrides = getattr(node, "_parameter_overrides", {}) or {}
    known = defaults()
    unknown = sorted(set(overrides) - set(known) - _ROS_PARAMETERS)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )


def validate(values: dict[str, Any]) -> NodeConfig:
    """The config from parameter name -> value, checked by the config with the node's choices
    (a missing name keeps its default)."""
    try:
        return NodeConfig.from_parameters(values)
    except ConfigError as err:
        raise ParameterError(f"parameter {err}") from None
