"""process-bag on bags written here: every storage, raw and compressed, with and without
CameraInfo and TF; what it writes read back with rosbags; the errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bag_factory import BagSpec, stamp_of, truncate_mcap, write_bag
from read_back import read_bag, stamp

from pymafx_ros.bags.input_bag import BagInputError
from pymafx_ros.bags.process_bag import BagOptions, process_bag
from pymafx_ros.cli import main

PEOPLE = "/pymafx/people"


def _input(tmp_path: Path, spec: BagSpec) -> Path:
    name = "in.bag" if spec.storage == "ros1" else "in"
    return write_bag(tmp_path / name, spec)


def _run(tmp_path, factory, spec=None, source=None, **kwargs):
    source = source or _input(tmp_path, spec or BagSpec())
    options = BagOptions(source, tmp_path / "out", progress=False, **kwargs)
    return process_bag(options, factory)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3", "ros1"])
@pytest.mark.parametrize("compressed", [False, True])
def test_every_frame_is_written_with_its_stamp_and_log_time(
    tmp_path, fake_factory, storage, compressed
):
    spec = BagSpec(storage=storage, compressed=compressed, frames=5)
    summary = _run(tmp_path, fake_factory, spec, overrides={"world_frame": "map"})
    assert (summary.exit_code, summary.frames_in, summary.processed) == (0, 5, 5)
    bag = read_bag(tmp_path / "out")
    assert {PEOPLE, "/pymafx/hands", "/pymafx/world_bodies", "/pymafx/model_info", "/tf"} <= set(
        bag
    )
    assert "/pymafx/markers" not in bag  # only with --markers
    expected = [stamp_of(i, spec) for i in range(5)]
    for topic in (PEOPLE, "/pymafx/hands", "/pymafx/world_bodies"):
        assert [stamp(m) for _, m, _ in bag[topic]] == expected, topic
        # log time = the image's log time in the input (written 1 us after its stamp)
        assert [t for t, _, _ in bag[topic]] == [s + 1000 for s in expected], topic
    assert all(m.header.frame_id == "map" for _, m, _ in bag["/pymafx/world_bodies"])
    assert [len(m.people) for _, m, _ in bag[PEOPLE]] == [1] * 5
    assert not list(tmp_path.glob(".out.partial-*"))


def test_camera_info_gives_the_intrinsics(tmp_path, fake_factory):
    with_info = _run(tmp_path / "a", fake_factory, BagSpec(camera_info=True))
    without = _run(tmp_path / "b", fake_factory, BagSpec(camera_info=False))
    assert with_info.exit_code == without.exit_code == 0
    calibrated = read_bag(tmp_path / "a" / "out")[PEOPLE][0][1]
    default = read_bag(tmp_path / "b" / "out")[PEOPLE][0][1]
    assert calibrated.intrinsics_from_camera_info and not default.intrinsics_from_camera_info


def test_markers_and_copied_inputs_replay_together(tmp_path, fake_factory):
    spec = BagSpec(frames=3)
    _run(tmp_path, fake_factory, spec, markers=True, copy_inputs=True)
    bag = read_bag(tmp_path / "out")
    assert len(bag["/pymafx/markers"]) >= 1
    assert len(bag["/cam/image_raw"]) == 3 and len(bag["/cam/camera_info"]) == 3
    assert len(bag["/tf_static"]) == 1


def test_two_cameras_need_a_topic(tmp_path, fake_factory):
    source = _input(tmp_path, BagSpec(second_camera=True, frames=2))
    with pytest.raises(BagInputError, match=r"/cam/image_raw.*/cam2/image_raw"):
        _run(tmp_path, fake_factory, source=source)
    summary = _run(tmp_path, fake_factory, source=source, topic="/cam2/image_raw")
    assert summary.processed == 2
    assert not (tmp_path / "out").exists() or summary.exit_code == 0


def test_a_truncated_bag_is_processed_up_to_the_cut_and_reported(tmp_path, fake_factory):
    source = _input(tmp_path, BagSpec(frames=8, width=640, height=480))  # a chunk a frame
    truncate_mcap(source, 0.6)
    summary = _run(tmp_path, fake_factory, source=source)
    assert summary.exit_code == 1
    assert 0 < summary.processed < 8
    assert any("ends early" in p for p in summary.problems)
    assert len(read_bag(tmp_path / "out")[PEOPLE]) == summary.processed


def test_a_corrupt_image_is_skipped_and_reported(tmp_path, fake_factory):
    source = _input(tmp_path, BagSpec(frames=4, storage="sqlite3"))
    import sqlite3

    database = next(source.glob("*.db3"))
    with sqlite3.connect(database) as db:
        (row,) = db.execute(
            "SELECT m.id FROM messages m JOIN topics t ON m.topic_id = t.id "
            "WHERE t.name = '/cam/image_raw' ORDER BY m.timestamp LIMIT 1 OFFSET 1"
        ).fetchall()
        db.execute("UPDATE messages SET data = ? WHERE id = ?", (b"\x00\x01\x00\x00\x07", row[0]))
    summary = _run(tmp_path, fake_factory, source=source)
    assert summary.exit_code == 1 and summary.processed == 3
    assert any("/cam/image_raw" in p and "corrupt" in p for p in summary.problems)


def test_cli_errors_exit_2_naming_the_problem(tmp_path, capsys):
    source = _input(tmp_path, BagSpec(frames=1))
    assert main(["process-bag", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such bag" in capsys.readouterr().err
    args = ["process-bag", str(source), "--out", str(tmp_path / "o"), "--topic", "/missing"]
    assert main(args) == 2
    assert "'/missing' is not in the bag" in capsys.readouterr().err
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"not a bag at all")
    assert main(["process-bag", str(junk), "--out", str(tmp_path / "o")]) == 2
    assert "not a readable bag" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("/**:\n  ros__parameters:\n    default_fov_deg: 60\n")
    assert main(["process-bag", str(source), "--out", str(tmp_path / "o"), "--params", str(bad)])
    assert "write 60.0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_summary_json_and_params_file(tmp_path, fake_factory, capsys):
    params = tmp_path / "p.yaml"
    params.write_text("/**/pymafx:\n  ros__parameters:\n    tf:\n      joints: all\n")
    source = _input(tmp_path, BagSpec(frames=2))
    summary = _run(tmp_path, fake_factory, source=source, params_file=params)
    line = json.loads(summary.to_json())
    assert {"frames_in", "processed", "people", "failures", "seconds"} <= set(line)
    tf = read_bag(tmp_path / "out")["/tf"][0][1]
    assert len(tf.transforms) == 56  # body_p1 + 55 joints (tf.joints: all)


def test_a_world_frame_the_bag_cannot_give_is_reported(tmp_path, fake_factory):
    spec = BagSpec(frames=3, tf=False)
    summary = _run(tmp_path, fake_factory, spec, overrides={"world_frame": "map"})
    assert (summary.exit_code, summary.processed, summary.world_missing) == (1, 3, 3)
    assert any("'map'" in p for p in summary.problems)
    assert "/pymafx/world_bodies" not in read_bag(tmp_path / "out")


def test_offline_smoothing_writes_every_frame_smoothed(tmp_path, fake_factory):
    summary = _run(tmp_path, fake_factory, BagSpec(frames=4), smoothing="offline")
    assert summary.exit_code == 0
    people = [m for _, m, _ in read_bag(tmp_path / "out")[PEOPLE]]
    assert len(people) == 4 and all(m.smoothing for m in people)


def test_the_output_carries_its_own_message_definitions(tmp_path, fake_factory):
    from rosbags.highlevel import AnyReader

    _run(tmp_path, fake_factory, BagSpec(frames=2), markers=True, overrides={"world_frame": "map"})
    # No default typestore: every type must come from the definitions embedded in the bag.
    with AnyReader([tmp_path / "out"]) as reader:
        kinds = {c.msgtype for c in reader.connections}
        for connection, _, raw in reader.messages():
            reader.deserialize(raw, connection.msgtype)
        assert all(c.digest.startswith("RIHS01_") for c in reader.connections)
    assert {"pymafx_ros/msg/SmplxPeople", "pymafx_ros/msg/WorldBodies",
            "visualization_msgs/msg/MarkerArray"} <= kinds  # fmt: skip
