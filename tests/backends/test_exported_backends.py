"""ONNX Runtime and OpenVINO run the exported programs like the model itself: any number of
people, only the visible hands through the hand expert (none at all included), all profiles'
names; results within the parity tolerance of eager PyTorch."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import create_backend
from pymafx_ros.model.mesh_decoding import PIPELINE_OUTPUTS

VISIBILITY = torch.tensor([[0.05, 0.8], [0.8, 0.0], [0.0, 0.1]])
COMPARED = [name for name in PIPELINE_OUTPUTS if name != "hand_visibility"]


@pytest.fixture(scope="module", params=["onnxruntime", "openvino"])
def backend(request, seeded_model):
    runner = create_backend(seeded_model, BackendOptions(request.param, "fp32", num_threads=2))
    runner.prepare("joints")
    runner.prepare("mesh")
    return runner


@pytest.fixture(scope="module")
def crops():
    generator = torch.Generator().manual_seed(9)
    return [torch.randn(3, 3, 224, 224, generator=generator) for _ in range(4)]


def test_three_people_with_hidden_hands_equal_eager_pytorch(backend, seeded_model, crops):
    vis = {"vis_lhand": VISIBILITY[:, 0], "vis_rhand": VISIBILITY[:, 1]}
    calls = []
    original = backend.encode
    backend.encode = lambda part, images: (
        calls.append((part, images.shape[0])) or original(part, images)
    )
    try:
        got = backend.predict(*crops, **vis, profile="joints").as_dict()
    finally:
        backend.encode = original
    assert calls == [("body", 3), ("hand", 2), ("face", 3)]  # 2 visible hands of 6
    with torch.inference_mode():
        want = seeded_model.predict(*crops, **vis, profile="joints")
    assert set(got) == set(want)
    for name in (*COMPARED, "pred_vis_hands"):
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


def test_no_visible_hand_and_one_person(backend, seeded_model, crops):
    one = [crop[:1] for crop in crops]
    vis = {"vis_lhand": torch.tensor([0.0]), "vis_rhand": torch.tensor([0.1])}
    got = backend.predict(*one, **vis, profile="joints").as_dict()
    with torch.inference_mode():
        want = seeded_model.predict(*one, **vis, profile="joints")
    for name in COMPARED:
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


def test_predicted_visibility_runs_every_hand(backend, seeded_model, crops):
    got = backend.predict(*[c[:2] for c in crops], profile="joints").as_dict()
    with torch.inference_mode():
        want = seeded_model.predict(*[c[:2] for c in crops], profile="joints")
    assert got["pred_vis_hands"].shape == (2, 2)
    torch.testing.assert_close(got["pred_vis_hands"], want["pred_vis_hands"], atol=1e-4, rtol=0)
    torch.testing.assert_close(got["smplx_joints"], want["smplx_joints"], atol=1e-4, rtol=0)


def test_the_mesh_profile_adds_the_vertices(backend, seeded_model, crops):
    one = [crop[:1] for crop in crops]
    vis = {"vis_lhand": torch.tensor([0.9]), "vis_rhand": torch.tensor([0.9])}
    got = backend.predict(*one, **vis, profile="mesh").as_dict()
    with torch.inference_mode():
        want = seeded_model.predict(*one, **vis, profile="mesh")
    assert got["smplx_verts"].shape == (1, 10475, 3)
    torch.testing.assert_close(got["smplx_verts"], want["smplx_verts"], atol=1e-4, rtol=0)


def test_bad_crops_are_refused_with_their_shapes(backend, crops):
    with pytest.raises(ValueError, match=r"\[B,3,224,224\]"):
        backend.predict(crops[0], crops[1][:2], crops[2], crops[3])


def test_describe_names_engine_precision_and_cpu(backend):
    facts = backend.describe()
    assert facts["backend"] == backend.name and facts["precision"] == "fp32"
    assert facts["cpu"] and facts["native_bf16"] in ("true", "false")
    assert facts[backend.name]  # the engine's version
