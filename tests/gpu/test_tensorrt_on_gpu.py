"""The tensorrt backend on a real GPU with real Torch-TensorRT engines (fp16 encoders, fp32
head, max_people 3; built here when ``pymafx-ros build-engines --max-people 3`` has not built
them yet): its results against eager fp32, no visible hand, the outputs left on the device, and
no synchronisation inside the call. Skipped without CUDA (every test here) or Torch-TensorRT."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.tensorrt.options import EngineOptions

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch_tensorrt") is None,
    reason="needs Torch-TensorRT (pip install -r requirements/gpu.txt); scripts/gpu_check.sh "
    "installs it on a GPU machine",
)

VIS = {"vis_lhand": torch.tensor([0.05, 0.9]), "vis_rhand": torch.tensor([0.8, 0.7])}


@pytest.fixture(scope="module")
def engines(seeded_model_build):
    """The fp16 backend on a CUDA copy of the session's model, and that copy (plain, eager)."""
    import copy

    from pymafx_ros.backends.tensorrt_backend import TensorRTBackend

    model = copy.deepcopy(seeded_model_build[0]).to("cuda")
    options = EngineOptions(max_people=3, build=True)
    backend = TensorRTBackend(model, "fp16", detect_cpu_features(), "cuda", engines=options)
    backend.prepare("mesh")
    return backend, model


@pytest.fixture(scope="module")
def crops():
    generator = torch.Generator().manual_seed(4)
    return [torch.rand(2, 3, 224, 224, generator=generator).cuda() for _ in range(4)]


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 1e3 * torch.linalg.vector_norm(a.float() - b.float(), dim=-1)


def _check(got, want, what: str) -> None:
    for name in ("smplx_joints", "smplx_verts"):
        distance = _mm(got[name], want[name])
        print(f"tensorrt fp16 vs eager fp32, {what}, {name}: mean {distance.mean():.3f} mm, "
              f"max {distance.max():.3f} mm")  # fmt: skip
        assert torch.isfinite(got[name]).all()
        assert distance.mean() <= 2.0 and distance.max() <= 10.0


def test_engines_agree_with_eager_fp32(engines, crops, exact_fp32):
    backend, model = engines
    with torch.inference_mode():
        got = backend.predict(*crops, **VIS, profile="mesh").as_dict()
        want = model.predict(*crops, **VIS, profile="mesh")
    assert all(t.device.type == "cuda" for t in got.values())  # one copy later, in the pipeline
    _check(got, want, "2 people, one hidden hand")


def test_no_visible_hand(engines, crops, exact_fp32):
    backend, model = engines
    hidden = {"vis_lhand": torch.tensor([0.0, 0.1]), "vis_rhand": torch.tensor([0.1, 0.0])}
    with torch.inference_mode():
        got = backend.predict(*crops, **hidden, profile="mesh").as_dict()
        want = model.predict(*crops, **hidden, profile="mesh")
    _check(got, want, "no visible hand")


def test_the_engine_call_never_synchronises(engines, crops):
    backend, _ = engines
    with torch.inference_mode():
        backend.predict(*crops, **VIS, profile="mesh")  # warm-up
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            backend.predict(*crops, **VIS, profile="mesh")
        finally:
            torch.cuda.set_sync_debug_mode("default")
