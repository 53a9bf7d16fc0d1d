"""``pymafx-ros calibrate`` end to end on a few frames: crops cut by MediaPipe, the encoders
quantized with the seeded weights, the cost against fp32 printed and recorded as the active
calibration of those weights; unusable ``--frames`` give a clear error and exit status 2."""

from __future__ import annotations

import json

import cv2
import pytest

from pymafx_ros import cli
from pymafx_ros.backends import calibration
from pymafx_ros.backends.calibration import CalibrationStore
from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.demo.sample_clip import sample_frames


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    """The calibration records go to a temporary folder, not the user's cache."""
    folder = tmp_path / "calibration"
    monkeypatch.setattr(calibration, "default_calibration_dir", lambda: folder)
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.mp4", "no such file or folder"),
        (lambda tmp: tmp, "holds no images"),
    ],
)
def test_unusable_frames_give_a_clear_error(tmp_path, store_dir, capsys, make, message):
    code = cli.main(["calibrate", "--frames", str(make(tmp_path))])
    assert code == 2
    err = capsys.readouterr().err
    assert "pymafx-ros calibrate: error:" in err and message in err
    assert not store_dir.exists()


def test_too_few_frames_to_hold_any_out(tmp_path, store_dir, capsys):
    frame = tmp_path / "frames"
    frame.mkdir()
    cv2.imwrite(str(frame / "a.png"), sample_frames(1)[0])
    assert cli.main(["calibrate", "--frames", str(frame)]) == 2
    assert "at least 4 frames" in capsys.readouterr().err


@pytest.mark.slow  # quantizes the three encoders on its own crops: minutes on two loaded cores
@pytest.mark.skipif(
    not detect_cpu_features().native_int8, reason="this CPU has no int8 dot products"
)
def test_calibrate_quantizes_measures_and_records(tmp_path, store_dir, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for index, rgb in enumerate(sample_frames(4)):
        cv2.imwrite(str(frames / f"{index:02d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    argv = ["calibrate", "--frames", str(frames), "--held-out-every", "2", "--max-crops", "2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "int8 against fp32 on 2 held-out frames" in out
    # NNCF's progress bars come first when it quantizes; the record is the indented JSON.
    printed = json.loads(out[out.index("{\n") : out.rindex("}") + 1])
    record = CalibrationStore(store_dir).active_record(printed["weights"])
    assert record is not None and record["calibration"] == printed["calibration"]
    assert record["crops"] == {"body": 2, "hand": 2, "face": 2}
    cost = record["cost_vs_fp32"]
    assert cost["people"] == 2 and 0.0 < cost["joints_mm_mean"] <= cost["joints_mm_max"]
