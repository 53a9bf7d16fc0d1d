"""The model-file check: every file of a data directory and the checkpoint, each reported ok or
with what is wrong and where the right file comes from; code-carrying pickles never run."""

from __future__ import annotations

import os

import numpy as np
import pytest
from model_files import code_pickle, data_dir_with, npy_bytes, tiny_checkpoint

from pymafx_ros.pipeline.model_files import (
    ModelFilesError,
    check_checkpoint,
    check_data_dir,
    require_model_files,
)

SMALL = "J_regressor_extra.npy"  # (9, 6890) float


def only_problem(reports):
    bad = [r for r in reports if not r.ok]
    assert len(bad) == 1, [r.describe() for r in bad]
    return bad[0]


def test_the_placeholder_data_directory_is_all_ok(placeholder_data_dir):
    reports = check_data_dir(placeholder_data_dir)
    assert len(reports) == 16 and all(r.ok for r in reports)


@pytest.mark.parametrize(
    ("relative", "content", "needle"),
    [
        ("smpl/MANO_RIGHT.pkl", None, "file not found"),
        ("smpl_mean_params.npz", b"", "unreadable or corrupt"),
        (SMALL, npy_bytes(np.zeros((9, 6890), np.float32))[:1000], "truncated array data"),
        (SMALL, npy_bytes(np.zeros((9, 100), np.float32)), "has shape (9, 100)"),
        (SMALL, npy_bytes(np.full((9, 6890), np.nan, np.float32)), "NaN"),
        (SMALL, b"not numpy at all", "unreadable or corrupt"),
    ],
)
def test_a_broken_file_is_named_with_the_problem_and_its_source(
    tmp_path, relative, content, needle
):
    report = only_problem(check_data_dir(data_dir_with(tmp_path, relative, content)))
    assert report.path == tmp_path / relative and needle in report.problem
    assert "http" in report.source  # where the right file comes from


def test_a_pickle_carrying_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "payload_ran"
    data = data_dir_with(tmp_path / "data", "smpl/MANO_RIGHT.pkl", code_pickle(marker))
    report = only_problem(check_data_dir(data))
    assert "refused to unpickle" in report.problem and "system" in report.problem
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_named(tmp_path):
    data = data_dir_with(tmp_path, SMALL, npy_bytes(np.zeros((9, 6890), np.float32)))
    (data / SMALL).chmod(0)
    assert "Permission denied" in only_problem(check_data_dir(data)).problem


def test_a_dangling_link_is_a_missing_file(tmp_path):
    data = data_dir_with(tmp_path, SMALL, None)
    os.symlink(tmp_path / "gone.npy", data / SMALL)
    assert only_problem(check_data_dir(data)).problem == "file not found"


def test_not_a_directory():
    (report,) = check_data_dir("/no/such/data")
    assert report.problem == "not a directory" and "PyMAF-X" in report.source


def test_a_checkpoint_with_the_official_layout_is_ok(tmp_path):
    assert check_checkpoint(tiny_checkpoint(tmp_path / "ok.pt")).ok


@pytest.mark.parametrize(
    ("layout", "needle"),
    [
        ({"drop": ("regressor.0.decpose.weight",)}, "missing keys 1: regressor.0.decpose"),
        ({"extra": ("my_head.weight",)}, "unexpected keys 1: my_head.weight"),
        ({"reshape": {"regressor.0.decpose.weight": (5, 5)}}, "mis-shaped keys"),
    ],
)
def test_checkpoint_key_problems_are_listed(tmp_path, layout, needle):
    report = check_checkpoint(tiny_checkpoint(tmp_path / "bad.pt", **layout))
    assert not report.ok and needle in report.problem, report.problem
    assert "PyMAF-X_model_checkpoint_v1.1.pt" in report.source


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "cannot be read"),
        (b"hello", "cannot be read"),
        ("code", "not a torch checkpoint, or one holding Python objects"),
        (None, "file not found"),
    ],
)
def test_a_file_that_is_not_a_checkpoint(tmp_path, content, needle):
    path, marker = tmp_path / "model.pt", tmp_path / "payload_ran"
    if content == "code":
        content = code_pickle(marker)
    if content is not None:
        path.write_bytes(content)
    report = check_checkpoint(path)
    assert not report.ok and needle in report.problem, report.problem
    assert not marker.exists()


def test_require_names_every_broken_file(tmp_path):
    data = data_dir_with(tmp_path / "data", SMALL, None)
    with pytest.raises(ModelFilesError) as err:
        require_model_files(data, tmp_path / "missing.pt")
    assert str(data / SMALL) in str(err.value) and "missing.pt: file not found" in str(err.value)
    require_model_files(None, None)  # placeholders: nothing to check
