"""Parameters: declared from the config, the YAML mirrors its defaults, bad values give clear
errors (through the config and through a node's parameter path)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.node import Node

from pymafx_ros.config.markdown import parameter_table
from pymafx_ros.ros.parameters import (
    ParameterError,
    declare_and_validate,
    defaults,
    parameter_specs,
    validate,
)

YAML = Path(__file__).parents[2] / "config" / "pymafx.yaml"


def yaml_parameters() -> dict:
    document = yaml.safe_load(YAML.read_text())
    assert list(document) == ["/**/pymafx"]
    return document["/**/pymafx"]["ros__parameters"]


def test_yaml_has_every_parameter_with_the_declared_default():
    values = yaml_parameters()
    assert not set(values) - set(defaults()), "the YAML names options the config lacks"
    assert values == defaults()
    # Same types too: a YAML 60 for 60.0 would make the node refuse its own file.
    assert {k: type(v) for k, v in values.items()} == {k: type(v) for k, v in defaults().items()}


def test_there_are_53_parameters():
    assert len(defaults()) == 53


def test_every_parameter_is_described_and_numbers_have_ranges():
    for spec in parameter_specs():
        opt = spec.option
        assert len(spec.description) > 20, spec.name
        if spec.type_name in ("integer", "double"):
            assert opt.low is not None and opt.low <= spec.value <= opt.high, spec.name


def test_defaults_validate():
    params = validate(defaults())
    assert params.output.tf_joints == "body" and params.output.markers_mesh_decimation == 0.3


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("tf.joints", "feet", "choose one of body, body_hands, all"),
        ("input_transport", "theora", "raw, compressed"),
        ("detector", "yolo", "mediapipe, full_frame"),
        ("max_people", 0, "allowed [1, 10]"),
        ("markers.mesh_decimation", 1.5, "markers.mesh_decimation"),
        ("device", "gpu", "cuda:N"),
        ("detector", "external", "mediapipe, full_frame"),
        ("default_fov_deg", 5.0, "allowed [10.0, 170.0]"),
        ("smoothing.hands.beta", -1.0, "allowed [0.0, 1000.0]"),
        ("max_people", 2.0, "must be of type integer"),
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
    pipeline = params.pipeline
    assert (params.output.tf_joints, pipeline.max_people, pipeline.default_fov_deg) == (
        "all",
        3,
        75.0,
    )
    described = node.describe_parameter("max_people")
    assert described.read_only and described.integer_range[0].to_value == 10
    node.destroy_node()


def test_descriptors_carry_ranges_choices_and_rules(node_with):
    node = node_with()
    declare_and_validate(node)
    for spec in parameter_specs():
        described = node.describe_parameter(spec.name)
        assert described.read_only and spec.description.split()[0].strip("`") in (
            described.description
        ), spec.name
        opt = spec.option
        ranges = list(described.integer_range) + list(described.floating_point_range)
        if opt.low is None:
            assert not ranges, spec.name
        else:
            assert len(ranges) == 1, spec.name
            assert (ranges[0].from_value, ranges[0].to_value) == (opt.low, opt.high), spec.name
        for choice in opt.node_choices or opt.choices:
            assert choice in described.description, spec.name
    fov = node.describe_parameter("default_fov_deg").floating_point_range[0]
    assert (fov.from_value, fov.to_value) == (10.0, 170.0)
    assert "cuda:N" in node.describe_parameter("device").additional_constraints
    node.destroy_node()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("default_fov_deg:=60", "must be of type double (write 60.0, not 60)"),
        ("max_people:=many", "must be of type integer"),
        ("max_people:=11", "out of range"),
        ("min_person_score:=-0.1", "out of range"),
        ("tf.prefx:=x", "unknown parameter(s) tf.prefx"),
        ("default_fov_deg:=175.0", "out of range: allowed [10.0, 170.0]"),
        # Past the type and range the descriptor checks, the config's own check speaks.
        ("backend:=tvm", "parameter 'backend' is 'tvm'; choose one of auto, torch"),
        ("detector:=external", "parameter 'detector' is 'external'; choose one of mediapipe"),
        ("device:=gpu", "parameter 'device' is 'gpu'; use auto, cpu, cuda or cuda:N"),
        ("tracking.iou_weight:=0.4", "unknown parameter(s) tracking.iou_weight"),
    ],
)
def test_declaring_rejects_bad_overrides(node_with, override, needle):
    node = node_with(override)
    with pytest.raises(ParameterError) as err:
        declare_and_validate(node)
    assert needle in str(err.value)
    node.destroy_node()


def test_readme_table_is_the_generated_one():
    """The README's parameter table is ``python -m pymafx_ros.config --markdown``'s output."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Parameters", 1)[1].split("\n#", 1)[0]
    table = "".join(line + "\n" for line in section.splitlines() if line.startswith("|"))
    assert table == parameter_table(), "run: python -m pymafx_ros.config --markdown"


def test_tracking_defaults_are_the_cores():
    """The node's tracking/smoothing defaults are the core's own (one definition)."""
    from pymafx_ros.config import TrackingConfig

    assert validate(defaults()).pipeline.tracking == TrackingConfig()


def test_a_bad_world_frame_is_named():
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


def test_tf_joint_choices_are_the_joint_sets_the_publisher_has():
    from pymafx_ros.config import TF_JOINT_SETS
    from pymafx_ros.geometry.body_frames import JOINT_SETS

    assert tuple(JOINT_SETS) == TF_JOINT_SETS
