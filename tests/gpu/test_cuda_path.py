"""The CUDA path end to end on a real GPU: device 'auto', the pipeline's results against the
CPU, no synchronisation inside the model call, one device-to-host copy per frame, and the
device-failure policy with a real out-of-memory error and a CPU rebuild."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.pipeline.devices import describe_device, resolve_device
from pymafx_ros.pipeline.model_loading import describe_model, load_model, model_predictor
from pymafx_ros.pipeline.pipeline import Pipeline


def _person(cx: float, cy: float, size: float, vis_l: float, vis_r: float) -> PersonDetection:
    body = PartBox(cx, cy, size)
    parts = default_parts(body)
    return PersonDetection(0.9, body, **parts, vis_lhand=vis_l, vis_rhand=vis_r, vis_face=0.9)


# The left hand of the first person is below the visibility gate: its expert is skipped.
PEOPLE = [_person(200, 260, 300, 0.05, 0.8), _person(450, 250, 280, 0.9, 0.7)]


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    import cv2
    from skimage import data

    out = np.zeros((480, 640, 3), dtype=np.uint8)
    out[:, 80:560] = cv2.resize(data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA)
    return out


def _pipeline(model, info, device: str, with_vertices: bool = False) -> Pipeline:
    config = PipelineConfig(
        detector="external", device=device, max_people=2, with_vertices=with_vertices
    )
    return Pipeline(
        config, model=model_predictor(model, with_vertices), model_info=describe_model(info)
    )


def test_auto_picks_the_gpu() -> None:
    device = resolve_device("auto")
    assert device.type == "cuda"
    assert "sm_" in describe_device(device)


def test_cuda_pipeline_matches_the_cpu_pipeline(cpu_and_cuda_models, frame, exact_fp32) -> None:
    cpu, cuda, info = cpu_and_cuda_models
    on_cpu = _pipeline(cpu, info, "cpu", with_vertices=True).process(frame, boxes=PEOPLE)
    on_gpu = _pipeline(cuda, info, "cuda", with_vertices=True).process(frame, boxes=PEOPLE)
    assert len(on_gpu.people) == len(on_cpu.people) == 2
    for gpu_person, cpu_person in zip(on_gpu.people, on_cpu.people, strict=True):
        joints_mm = 1e3 * np.linalg.norm(gpu_person.joints - cpu_person.joints, axis=-1)
        verts_mm = 1e3 * np.linalg.norm(gpu_person.vertices - cpu_person.vertices, axis=-1)
        print(f"CUDA vs CPU (TF32 off): joints mean {joints_mm.mean():.4f} max "
              f"{joints_mm.max():.4f} mm, vertices mean {verts_mm.mean():.4f} max "
              f"{verts_mm.max():.4f} mm")  # fmt: skip
        assert joints_mm.mean() < 0.5 and joints_mm.max() < 2.0
        assert verts_mm.mean() < 0.5 and verts_mm.max() < 2.0


def test_the_model_call_never_synchronises(cpu_and_cuda_models) -> None:
    """Crops on the GPU, detector scores on the host (as the pipeline passes them): CUDA's
    sync debug mode raises on any synchronisation inside predict."""
    _, cuda, _ = cpu_and_cuda_models
    crops = [torch.rand(2, 3, 224, 224, device="cuda") for _ in range(4)]
    vis = {"vis_lhand": torch.tensor([0.8, 0.05]), "vis_rhand": torch.tensor([0.9, 0.7])}
    with torch.inference_mode():
        cuda.predict(*crops, **vis, smplx_expression=True)  # warm-up: allocations, autotuning
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            out = cuda.predict(*crops, **vis, smplx_expression=True)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    assert torch.isfinite(out["smplx_joints"]).all()


def test_one_device_to_host_copy_per_frame(cpu_and_cuda_models, frame) -> None:
    from torch.profiler import ProfilerActivity, profile

    _, cuda, info = cpu_and_cuda_models
    pipeline = _pipeline(cuda, info, "cuda")
    pipeline.process(frame, boxes=PEOPLE)  # warm-up
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        result = pipeline.process(frame, boxes=PEOPLE)
    assert len(result.people) == 2
    names = [event.name for event in prof.events()]
    to_host = [n for n in names if "Memcpy DtoH" in n]
    to_device = [n for n in names if "Memcpy HtoD" in n]
    print(f"per frame: {len(to_host)} device-to-host, {len(to_device)} host-to-device copies")
    assert len(to_host) == 1, to_host
    assert len(to_device) <= 8, to_device  # frame, sampling table, constants, hand indices


def test_a_real_out_of_memory_is_retried(cpu_and_cuda_models, frame) -> None:
    _, cuda, info = cpu_and_cuda_models
    predictor = model_predictor(cuda)
    calls = []

    def greedy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            torch.empty(1 << 50, dtype=torch.uint8, device="cuda")  # 1 PiB: a real OOM
        return predictor(*args, **kwargs)

    pipeline = Pipeline(
        PipelineConfig(detector="external", device="cuda", max_people=2),
        model=greedy,
        model_info=describe_model(info),
    )
    result = pipeline.process(frame, boxes=PEOPLE)
    assert len(result.people) == 2 and len(calls) == 2
    health = pipeline.device_health()
    assert health["device out-of-memory errors"] == "1"
    assert health["device retries that succeeded"] == "1"
    assert health["device"].startswith("cuda")


def test_a_lost_device_reruns_the_frame_on_a_cpu_rebuild(frame) -> None:
    """The CUDA error is injected (a real one would poison this test process's context);
    the CPU model is really rebuilt by load_model."""
    built = []

    def loader(config: PipelineConfig):
        built.append(config.device)
        predictor, info = load_model(config)
        if config.device == "cpu":
            return predictor, info

        def lost(*args, **kwargs):
            raise torch.AcceleratorError("CUDA error: unspecified launch failure (injected)")

        return lost, info

    pipeline = Pipeline(
        PipelineConfig(detector="external", device="cuda", max_people=2), model_loader=loader
    )
    result = pipeline.process(frame, boxes=PEOPLE)
    assert len(result.people) == 2 and built == ["cuda", "cpu"]
    health = pipeline.device_health()
    assert health["device"] == "cpu" and "unspecified launch failure" in health["device fallback"]
    assert pipeline.process(frame, boxes=PEOPLE).people  # and it goes on, on the CPU
