"""The torch_compile backend: batch buckets and padding (exact, checked with the compile step
left out), and inductor's C++ kernels on the CPU against eager fp32 (the issue's 2 mm mean /
10 mm max; slow: compiling takes minutes)."""

from __future__ import annotations

import pytest
import torch

from pymafx_ros.backends.compiled_backend import (
    TorchCompileBackend,
    batch_buckets,
    bucket_of,
    pad_rows,
)
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.names import BackendUnavailableError

CPU = CpuFeatures("test CPU", frozenset())
COMPARED = ("smplx_joints", "pred_cam", "pred_shape", "pred_vis_hands")


def test_buckets_are_powers_of_two_up_to_the_largest_batch():
    assert batch_buckets(1) == (1,)
    assert batch_buckets(3) == (1, 2, 3)
    assert batch_buckets(6) == (1, 2, 4, 6)
    assert batch_buckets(64) == (1, 2, 4, 8, 16, 32, 64)
    assert bucket_of(3, (1, 2, 4, 6)) == 4 and bucket_of(1, (1, 2)) == 1
    with pytest.raises(ValueError, match="exceed the largest compiled batch 2"):
        bucket_of(3, (1, 2))


def test_padding_adds_rows_of_the_fill_value():
    rows = torch.tensor([[0, 1], [2, 2]])
    assert pad_rows(rows, 2) is rows
    assert pad_rows(rows, 4, 9).tolist() == [[0, 1], [2, 2], [9, 9], [9, 9]]


def test_fp16_is_refused_on_the_cpu(seeded_model):
    with pytest.raises(
        BackendUnavailableError, match="fp16 of backend torch_compile runs on CUDA"
    ):
        TorchCompileBackend(seeded_model, "fp16", CPU)


@pytest.fixture(scope="module")
def crops():
    generator = torch.Generator().manual_seed(9)
    return [torch.randn(3, 3, 224, 224, generator=generator) for _ in range(4)]


def _eager(model, crops, **vis):
    with torch.inference_mode():
        return model.predict(*crops, **vis, profile="joints")


def test_padded_buckets_give_the_models_results(seeded_model, crops):
    """3 people padded to the bucket of 4 (hands to 8 rows), then one person with no visible
    hand (no hand encoder call, zero maps): the padding changes nothing."""
    backend = TorchCompileBackend(
        seeded_model, "fp32", CPU, max_people=4, compile_step=lambda m, g: m, warm_up=False
    )
    vis = {"vis_lhand": torch.tensor([0.05, 0.8, 0.0]), "vis_rhand": torch.tensor([0.8, 0.0, 0.1])}
    calls = []
    hand = backend.encoders["hand"]
    backend.encoders["hand"] = lambda images: calls.append(images.shape[0]) or hand(images)
    got = backend.predict(*crops, **vis, profile="joints").as_dict()
    assert calls == [2]  # 2 visible hands of 6, a bucket of 2
    want = _eager(seeded_model, crops, **vis)
    assert set(got) == set(want) and got["smplx_joints"].shape == (3, 144, 3)
    for name in COMPARED:
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)
    hidden = {"vis_lhand": torch.tensor([0.0]), "vis_rhand": torch.tensor([0.1])}
    one = [crop[:1] for crop in crops]
    got = backend.predict(*one, **hidden, profile="joints").as_dict()
    assert calls == [2]  # no hand to run: the hand encoder was not called
    want = _eager(seeded_model, one, **hidden)
    for name in COMPARED:
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


@pytest.mark.slow
def test_inductor_on_the_cpu_agrees_with_eager_fp32(seeded_model, crops):
    """The compiled path itself (inductor's C++ kernels): one person, both hands visible."""
    backend = TorchCompileBackend(seeded_model, "fp32", CPU, max_people=1)
    backend.prepare("joints")
    one = [crop[:1] for crop in crops]
    vis = {"vis_lhand": torch.tensor([0.9]), "vis_rhand": torch.tensor([0.9])}
    got = backend.predict(*one, **vis, profile="joints").as_dict()
    want = _eager(seeded_model, one, **vis)
    error_mm = 1e3 * torch.linalg.vector_norm(got["smplx_joints"] - want["smplx_joints"], dim=-1)
    assert torch.isfinite(got["smplx_joints"]).all()
    assert float(error_mm.mean()) <= 2.0 and float(error_mm.max()) <= 10.0
    assert backend.describe()["compiled"].startswith("inductor, CUDA graphs false")
