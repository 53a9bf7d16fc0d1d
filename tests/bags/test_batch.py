"""process-bags on a local Ray with two bags and two actors (fake model): outputs, manifest,
and a rerun that skips what is done."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bag_factory import BagSpec, write_bag
from read_back import read_bag

from pymafx_ros.bags.batch import BatchOptions, output_name, run_batch
from pymafx_ros.bags.process_bag import BagOptions

pytest.importorskip("ray")
SUPPORT = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "ros" / "support"),
           str(Path(__file__).parents[1] / "support"), str(Path(__file__).parents[2])]  # fmt: skip


@pytest.mark.slow
def test_two_bags_on_two_actors_then_a_rerun_skips_them(tmp_path, monkeypatch):
    # Ray's workers import the fake pipeline from the test folders.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*SUPPORT, os.environ.get("PYTHONPATH", "")]))
    bags = [write_bag(tmp_path / name, BagSpec(frames=3)) for name in ("a", "b")]
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(b"nothing")
    options = BatchOptions(
        inputs=[*bags, broken],
        out_dir=tmp_path / "out",
        workers=2,
        template=BagOptions(Path(), Path()),
        factory="fake_pipeline:FakePipeline",
        threads_per_worker=1,
    )
    assert run_batch(options) == 1  # the broken bag fails (twice) and is reported
    rows = {Path(r["input"]).name: r for r in json.loads((tmp_path / "out" / "manifest.json")
            .read_text())["bags"]}  # fmt: skip
    assert rows["a"]["status"] == rows["b"]["status"] == "done"
    assert rows["a"]["frames"] == 3 and rows["a"]["people"] == 1
    assert rows["broken.mcap"]["status"] == "failed" and rows["broken.mcap"]["attempts"] == 2
    assert "not a readable bag" in rows["broken.mcap"]["error"]
    for bag in bags:
        assert len(read_bag(tmp_path / "out" / output_name(bag))["/pymafx/people"]) == 3
    options.inputs = bags
    assert run_batch(options) == 0  # both done before: skipped, nothing started
