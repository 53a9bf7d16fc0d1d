"""``pymafx-ros process --backend --precision``: impossible choices stop before any work."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pymafx_ros.cli import main


def test_backend_flags_are_checked_before_any_work(tmp_path, capsys):
    image = tmp_path / "one.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    out = tmp_path / "out"
    code = main(["process", str(image), "--out", str(out), "--backend", "onnxruntime",
                 "--precision", "bf16"])  # fmt: skip
    assert code == 2
    assert "onnxruntime runs fp32 only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["process", str(image), "--out", str(out), "--backend", "tvm"])
    assert "invalid choice: 'tvm'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["process", str(image), "--out", str(out), "--experts", "hands,face"])
    assert "invalid choice: 'hands,face'" in capsys.readouterr().err
