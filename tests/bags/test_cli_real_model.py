"""``pymafx-ros process-bag`` end to end through the command line with the real network (the
session's seeded placeholder model): the summary line, and the output read back."""

from __future__ import annotations

import json

import pytest
from bag_factory import BagSpec, write_bag
from read_back import read_bag

from pymafx_ros.cli import main


@pytest.fixture
def shared_model(monkeypatch, seeded_model_build):
    """Hand the session's real network to the Pipeline the command builds (no second build)."""
    from eager_predictor import model_predictor

    from pymafx_ros.pipeline import pipeline
    from pymafx_ros.pipeline.model_loading import describe_model

    module, info = seeded_model_build
    monkeypatch.setattr(
        pipeline,
        "load_model",
        lambda config: (model_predictor(module, config.with_vertices), describe_model(info)),
    )


@pytest.mark.slow
def test_process_bag_command_with_the_real_model(shared_model, tmp_path, capsys):
    source = write_bag(tmp_path / "in", BagSpec(frames=2, width=128, height=96))
    args = ["process-bag", str(source), "--out", str(tmp_path / "out"), "--summary",
            "--detector", "full_frame", "--device", "cpu", "--backend", "torch",
            "--world-frame", "map", "--markers"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["frames_in"], summary["processed"], summary["failures"]) == (2, 2, 0)
    bag = read_bag(tmp_path / "out")
    assert [len(m.people) for _, m, _ in bag["/pymafx/people"]] == [1, 1]
    assert len(bag["/pymafx/world_bodies"]) == 2 and bag["/pymafx/markers"]
