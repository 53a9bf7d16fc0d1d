"""The typed config: one definition per option, one check per option, stdlib only."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pymafx_ros.config import (
    ConfigError,
    NodeConfig,
    OneEuroParams,
    OutputOptions,
    PipelineConfig,
    SmoothingConfig,
    TrackerConfig,
    TrackingConfig,
    parameter_defaults,
    walk,
    with_values,
)
from pymafx_ros.config.__main__ import main
from pymafx_ros.config.markdown import parameter_table

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(run.stdout))


def test_importing_the_config_loads_the_standard_library_only():
    # Against a bare interpreter: site hooks (.pth files) load modules of their own.
    added = _modules_after("import pymafx_ros.config") - _modules_after("pass")
    third_party = {m.split(".")[0] for m in added} - set(sys.stdlib_module_names)
    assert third_party == {"pymafx_ros"}, third_party
    assert {m for m in added if m.startswith("pymafx_ros.")} <= {
        m for m in added if m.startswith(("pymafx_ros.config",))
    }


def test_every_option_has_a_description_and_a_valid_default():
    specs = list(walk(NodeConfig()))
    assert len({s.name for s in specs}) == len(specs), "option names are unique"
    for spec in specs:
        assert spec.description and "\n" not in spec.description, spec.name
    NodeConfig().pipeline.validate()
    NodeConfig.from_parameters({})


def test_the_node_declares_53_options_and_keeps_the_rest_to_python():
    assert len(parameter_defaults(NodeConfig())) == 53
    hidden = [s.name for s in walk(NodeConfig()) if not s.option.node]
    assert hidden == ["tracking.iou_weight"]


# One bad value per option kind: choice, node-only choice, range (int, float, nested group),
# pattern, path, type. Each message names the option, the value and what is accepted.
BAD = [
    ("detector", "yolo", "'detector' is 'yolo'; choose one of mediapipe, full_frame, external"),
    ("backend", "tvm", "'backend' is 'tvm'; choose one of auto, torch, torch_compile"),
    ("precision", "fp8", "'precision' is 'fp8'; choose one of auto, fp32, bf16, fp16, int8"),
    ("max_people", 0, "'max_people' is 0; allowed [1, 10]"),
    ("max_people", 11, "'max_people' is 11; allowed [1, 10]"),
    ("num_threads", -1, "'num_threads' is -1; allowed [0, 256]"),
    ("min_person_score", 1.5, "'min_person_score' is 1.5; allowed [0.0, 1.0]"),
    ("default_fov_deg", 175.0, "'default_fov_deg' is 175.0; allowed [10.0, 170.0]"),
    ("default_fov_deg", float("nan"), "'default_fov_deg' is nan; allowed [10.0, 170.0]"),
    ("device", "gpu", "'device' is 'gpu'; use auto, cpu, cuda or cuda:N"),
    ("data_dir", "/no/such/dir", "'data_dir' is '/no/such/dir', which is not a directory"),
    ("checkpoint", "/no/such.pt", "'checkpoint' is '/no/such.pt', which is not a file"),
    ("max_people", "2", "'max_people' is '2'; it must be of type integer"),
    ("tracking.confirm_frames", 0, "'tracking.confirm_frames' is 0; allowed [1, 100]"),
    ("tracking.iou_weight", 2.0, "'tracking.iou_weight' is 2.0; allowed [0.0, 1.0]"),
    ("tracking.hand_on_threshold", 0.05, "'tracking.hand_on_threshold' is 0.05; allowed"),
    ("smoothing.enable", 1, "'smoothing.enable' is 1; it must be of type bool"),
    ("smoothing.root.min_cutoff", 0.0, "'smoothing.root.min_cutoff' is 0.0; allowed"),
    ("smoothing.expression.beta", -1.0, "'smoothing.expression.beta' is -1.0; allowed"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_each_bad_pipeline_value_is_named(name, value, message):
    with pytest.raises(ConfigError) as err:
        with_values(PipelineConfig(), {name: value}).validate()
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("tf.joints", "feet", "'tf.joints' is 'feet'; choose one of body, body_hands, all"),
        ("tf.prefix", "/humans/", "not start with '/'"),
        ("world_frame", "map/", "'world_frame' is 'map/'; give a TF frame id"),
        ("hands.wrist_frame", "world", "choose one of mano, operator, camera"),
        ("markers.mesh_decimation", 1.5, "allowed [0.0, 1.0]"),
        ("input_transport", "theora", "choose one of raw, compressed"),
        ("max_image_pixels", 0, "allowed [1, 1073741824]"),
        ("diagnostics.period_s", 0.0, "allowed [0.1, 60.0]"),
        ("detector", "external", "choose one of mediapipe, full_frame"),  # the node's narrower
    ],
)
def test_each_bad_node_value_is_named(name, value, message):
    with pytest.raises(ConfigError) as err:
        NodeConfig.from_parameters({name: value})
    assert message in str(err.value) and name in str(err.value)


@pytest.mark.parametrize("frame", ["map", "odom", "a_/b", "humans/map", ""])
def test_good_world_frames_pass(frame):
    assert NodeConfig.from_parameters({"world_frame": frame}).output.world_frame == frame


def test_unknown_names_are_refused():
    with pytest.raises(ConfigError, match="unknown option"):
        with_values(PipelineConfig(), {"max_peple": 2})


def test_values_by_name_reach_their_nested_fields(tmp_path):
    config = NodeConfig.from_parameters(
        {
            "smoothing.hands.beta": 2.5,
            "tracking.hand_hold_frames": 7,
            "tf.prefix": "cam1_",
            "data_dir": str(tmp_path),
            "checkpoint": "",
        }
    )
    assert config.pipeline.tracking.smoothing.hands == OneEuroParams(1.0, 2.5, 1.0)
    assert config.pipeline.tracking.hands.hold_frames == 7
    assert config.output.tf_prefix == "cam1_"
    assert config.pipeline.data_dir == str(tmp_path) and config.pipeline.checkpoint is None


def test_parts_validate_alone_with_their_node_names():
    with pytest.raises(ConfigError, match=r"'tracking\.min_iou' is 1\.5"):
        TrackerConfig(min_iou=1.5).validate()
    with pytest.raises(ConfigError, match=r"'smoothing\.face\.d_cutoff'"):
        SmoothingConfig(face=OneEuroParams(d_cutoff=0.0)).validate()
    with pytest.raises(ConfigError, match=r"'smoothing\.body\.beta'"):
        OneEuroParams(beta=-1.0).validate("smoothing.body.")


def test_smoothing_group_defaults_differ_per_group():
    smoothing = TrackingConfig().smoothing
    assert smoothing.position == OneEuroParams(0.5, 8.0, 1.0)
    assert smoothing.face == OneEuroParams(1.0, 1.0, 1.0)


def test_output_options_match_what_the_publishers_use():
    from_node = NodeConfig().output
    assert from_node == OutputOptions()
    assert {f.name for f in dataclasses.fields(OutputOptions)} >= {"tf_joints", "world_frame"}


def test_markdown_entry_point_prints_the_table(capsys):
    assert main(["--markdown"]) == 0
    printed = capsys.readouterr().out
    assert printed == parameter_table()
    assert "| `default_fov_deg` | `60.0` | 10 – 170 |" in printed
    assert "| `max_image_pixels` | `33177600` | 1 – 2^30 |" in printed
    assert "tracking.iou_weight" not in printed
