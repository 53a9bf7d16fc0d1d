"""The node refuses to start on bad parameters (exit 2, the parameter named) and ends with a
clear message when the model cannot be loaded (exit 2 for a file problem, else 1)."""

from __future__ import annotations

import pytest
from graph import REPO, start_fake_node

pytestmark = pytest.mark.slow  # subprocess nodes


@pytest.mark.parametrize(
    ("ros_args", "needle"),
    [
        (["-p", "max_people:=0"], "parameter 'max_people' is out of range"),
        (["-p", "tf.joints:=feet"], "parameter 'tf.joints' is 'feet'; choose one of"),
        (["-p", "default_fov_deg:=60"], "write 60.0, not 60"),
        (["-p", "data_dir:=/no/such/dir"], "parameter 'data_dir' is '/no/such/dir'"),
        (["-p", "markers.max_rate_hz:=abc"], "'markers.max_rate_hz' must be of type double"),
        # Checked by pymafx_ros.config (the descriptor has no range for these): one message form.
        (["-p", "device:=gpu"], "parameter 'device' is 'gpu'; use auto, cpu, cuda or cuda:N"),
        (["-p", "detector:=external"], "'detector' is 'external'; choose one of mediapipe, full"),
        (["-p", "world_frame:=/map"], "parameter 'world_frame' is '/map'; give a TF frame id"),
        (
            ["-p", "experts:=hands,face"],
            "parameter 'experts' is 'hands,face'; the body expert always runs",
        ),
        (
            ["-p", "default_fov_deg:=5.0"],
            "'default_fov_deg' is out of range: allowed [10.0, 170.0]",
        ),
    ],
)
def test_bad_parameters_stop_the_node_with_a_clear_message(tmp_path, ros_args, needle):
    node = start_fake_node(ros_args, tmp_path / "node.log")
    code = node.wait(60)
    log = node.log()
    assert code == 2, log
    assert "refusing to start" in log and needle in log, log
    assert "Traceback" not in log


def test_unknown_parameter_in_a_params_file_is_refused(tmp_path):
    params = tmp_path / "typo.yaml"
    text = (REPO / "config" / "pymafx.yaml").read_text()
    params.write_text(text.replace("tf.joints: body", "tf.joint: body"))
    node = start_fake_node(["--params-file", str(params)], tmp_path / "node.log")
    assert node.wait(60) == 2
    assert "unknown parameter(s) tf.joint" in node.log()


@pytest.mark.parametrize(
    ("failure", "code", "needle"),
    [
        ("file", 2, "FileNotFoundError: test double told to fail: no SMPLX_NEUTRAL_2020.npz"),
        ("runtime", 1, "RuntimeError: test double told to fail: CUDA out of memory"),
    ],
)
def test_model_that_cannot_load_ends_the_node(tmp_path, failure, code, needle):
    # A missing or broken file is the user's to fix (2, like a bad parameter); anything else 1.
    node = start_fake_node([], tmp_path / "node.log", PYMAFX_TEST_FAIL_LOAD=failure)
    exit_code = node.wait(60)
    log = node.log()
    assert exit_code == code, log
    assert f"could not load the pipeline: {needle}" in log
    assert "Traceback" not in log
