"""Parameters: one table, the YAML mirrors its defaults, bad values give clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.node import Node

from pymafx_ros.ros.parameters import (
    PARAMETERS,
    ParameterError,
    declare_and_validate,
    defaults,
    validate,
)

YAML = Path(__file__).parents[2] / "config" / "pymafx.yaml"


def yaml_parameters() -> dict:
    document = yaml.safe_load(YAML.read_text())
    assert list(document) == ["/**/pymafx"]
    return document["/**/pymafx"]["ros__parameters"]


def test_yaml_has_every_parameter_with_the_declared_default():
    assert yaml_parameters() == defaults()


def test_every_parameter_is_described_and_numbers_have_ranges():
    for spec in PARAMETERS:
        assert len(spec.description) > 20, spec.name
        if isinstance(spec.default, (int, float)) and not isinstance(spec.default, bool):
            assert spec.low is not None and spec.low <= spec.default <= spec.high, spec.name


def test_defaults_validate():
    params = validate(defaults())
    assert params.tf_joints == "body" and params.markers_mesh_decimation == 0.3


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("tf.joints", "feet", "choose one of body, body_hands, all"),
        ("input_transport", "theora", "raw, compressed"),
        ("detector", "yolo", "mediapipe, full_frame"),
        ("max_people", 0, "allowed [1, 10]"),
        ("markers.mesh_decimation", 1.5, "markers.mesh_decimation"),
        ("device", "gpu", "'cuda:N'"),
        ("tf.prefix", "/humans/", "not start with '/'"),
        ("data_dir", "/no/such/dir", "not a directory"),
        ("checkpoint", "/no/such/file.pt", "not a file"),
    ],
)
def test_bad_values_are_named(name, value, needle):
    values = {**defaults(), name: value}
    with pytest.raises(ParameterError) as err:
        validate(values)
    assert name in str(err.value) and needle in str(err.value)


@pytest.fixture
def node_with(request):
    contexts = []

    def make(*overrides: str) -> Node:
        context = rclpy.Context()
        args = ["node", "--ros-args", *[a for o in overrides for a in ("-p", o)]]
        rclpy.init(args=args, context=context)
        contexts.append(context)
        return Node("pymafx", context=context)

    yield make
    for context in contexts:
        context.try_shutdown()


def test_declared_parameters_read_overrides(node_with):
    node = node_with("tf.joints:=all", "max_people:=3", "default_fov_deg:=75.0")
    params = declare_and_validate(node)
    assert (params.tf_joints, params.max_people, params.default_fov_deg) == ("all", 3, 75.0)
    described = node.describe_parameter("max_people")
    assert described.read_only and described.integer_range[0].to_value == 10
    node.destroy_node()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("default_fov_deg:=60", "must be of type double (write 60.0, not 60)"),
        ("max_people:=many", "must be of type integer"),
        ("max_people:=11", "out of range"),
        ("min_person_score:=-0.1", "out of range"),
        ("tf.prefx:=x", "unknown parameter(s) tf.prefx"),
    ],
)
def test_declaring_rejects_bad_overrides(node_with, override, needle):
    node = node_with(override)
    with pytest.raises(ParameterError) as err:
        declare_and_validate(node)
    assert needle in str(err.value)
    node.destroy_node()


def test_docs_table_lists_every_parameter_with_its_default():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    doc = readme.split("### Parameters", 1)[1].split("\n### ", 1)[0]
    rows = {
        cells[1].strip("` "): cells[2].strip("` ")
        for line in doc.splitlines()
        if line.startswith("| `") and len(cells := line.split("|")) > 3
    }
    for spec in PARAMETERS:
        shown = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
        assert rows.get(spec.name) == (str(shown) if spec.default != "" else '""'), spec.name


def test_tracking_defaults_are_the_cores():
    """The node's tracking/smoothing defaults are written out (the core loads torch); they must
    be exactly the core's own defaults."""
    from pymafx_ros.ros.parameters import defaults, validate
    from pymafx_ros.tracking.people import TrackingConfig

    assert TrackingConfig.from_dict(validate(defaults()).tracking) == TrackingConfig()


def test_a_bad_world_frame_is_named():
    from pymafx_ros.ros.parameters import defaults, validate

    for bad in ("/map", "map/", "1map", "my frame"):
        with pytest.raises(ParameterError, match="world_frame"):
            validate({**defaults(), "world_frame": bad})


def test_input_reliability_picks_the_subscription_qos():
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    from pymafx_ros.ros.node import input_qos

    assert input_qos("best_effort").reliability == ReliabilityPolicy.BEST_EFFORT
    reliable = input_qos("reliable")
    assert reliable.reliability == ReliabilityPolicy.RELIABLE and reliable.depth == 5
    assert reliable.durability == DurabilityPolicy.VOLATILE
