"""--params: the node's YAML read with the node's declarations and validation."""

from __future__ import annotations

import pytest

from pymafx_ros.bags.params import node_parameters, read_params_file
from pymafx_ros.ros.parameters import ParameterError


def test_the_node_config_file_reads_as_the_node_reads_it():
    params = node_parameters("config/pymafx.yaml")
    assert params.pipeline.max_people == 1  # the file says 1: it wins over the offline default
    assert node_parameters().pipeline.max_people == 10  # as `pymafx-ros process` finds people


def test_nested_keys_other_nodes_and_flags(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "other_node:\n  ros__parameters:\n    max_people: 3\n"
        "/robot/pymafx:\n  ros__parameters:\n    tf:\n      prefix: humans/\n"
        "    smoothing: {body: {beta: 2.0}}\n"
    )
    assert read_params_file(path) == {"tf.prefix": "humans/", "smoothing.body.beta": 2.0}
    params = node_parameters(path, {"max_people": 4})
    assert (params.output.tf_prefix, params.pipeline.max_people) == ("humans/", 4)
    assert params.pipeline.tracking.smoothing.body.beta == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/**:\n  ros__parameters:\n    max_peple: 2\n", "unknown parameter"),
        ("/**:\n  ros__parameters:\n    max_people: 2.0\n", "must be of type int"),
        ("/**:\n  ros__parameters:\n    max_people: 50\n", "allowed"),
        ("/**:\n  ros__parameters:\n    detector: yolo\n", "choose one of"),
        ("camera:\n  ros__parameters:\n    x: 1\n", "no block for the node"),
        ("[1, 2", "cannot read"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ParameterError, match=message):
        node_parameters(path)
