"""The exported programs without the face expert (and without the hands): the face encoder
program is never run, the head holds the neutral face (its ``run_face`` input), and the
results equal eager PyTorch's; the hands equal the engine's own full run."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import create_backend

VIS = {"vis_lhand": torch.tensor([0.8, 0.05]), "vis_rhand": torch.tensor([0.8, 0.9])}
COMPARED = ("rotmat", "pred_cam", "pred_shape", "pred_exp", "pred_face_rotmat", "smplx_joints")
HANDS = ("pred_lhand_rotmat", "pred_rhand_rotmat", "pred_vis_hands")


@pytest.fixture(scope="module")
def backend(seeded_model):
    runner = create_backend(seeded_model, BackendOptions("onnxruntime", "fp32", num_threads=2))
    runner.prepare("joints")
    return runner


@pytest.fixture(scope="module")
def crops():
    generator = torch.Generator().manual_seed(11)
    return [torch.randn(2, 3, 224, 224, generator=generator) for _ in range(4)]


def _encoded(backend, call):
    """(result, [(part, crops)] the encoder programs ran on)."""
    calls = []
    original = backend.encode
    backend.encode = lambda part, images: (
        calls.append((part, images.shape[0])) or original(part, images)
    )
    try:
        return call().as_dict(), calls
    finally:
        backend.encode = original


def test_without_the_face_expert(backend, seeded_model, crops):
    got, calls = _encoded(backend, lambda: backend.predict(*crops[:3], None, **VIS))
    assert calls == [("body", 2), ("hand", 3)]  # no face encoder
    with torch.inference_mode():
        want = seeded_model.predict(*crops[:3], None, **VIS, profile="joints")
    for name in (*COMPARED, *HANDS):
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)
    assert torch.equal(got["pred_exp"], torch.zeros(2, 50))
    assert torch.equal(got["pred_face_rotmat"], torch.eye(3).expand(2, 3, 3, 3))
    full = backend.predict(*crops, **VIS).as_dict()
    for name in HANDS:
        torch.testing.assert_close(got[name], full[name], atol=1e-5, rtol=0, msg=name)
    # The body only through the jaw coupling (model.face_expert; bounds as the eager test's).
    torch.testing.assert_close(got["rotmat"], full["rotmat"], atol=2e-3, rtol=0)


def test_body_only(backend, seeded_model, crops):
    got, calls = _encoded(backend, lambda: backend.predict(crops[0], None, None, None))
    assert [part for part, count in calls if count] == ["body"]  # no hand, no face crop
    with torch.inference_mode():
        want = seeded_model.predict(crops[0], None, None, None, profile="joints")
    assert torch.equal(got["pred_vis_hands"], torch.zeros(4))
    for name in (*COMPARED, *HANDS):
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)
