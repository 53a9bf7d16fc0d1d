"""The pipeline's device handling on the CPU: 'auto' resolution, a missing GPU named, the
results' single host copy, and device failures injected into a real pipeline run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pipeline_fakes import CountingFakeModel, person_at

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.assemble import FinalOutput, host_arrays
from pymafx_ros.pipeline.device_recovery import DeviceError
from pymafx_ros.pipeline.devices import resolve_device
from pymafx_ros.pipeline.pipeline import Pipeline

FRAME = np.full((480, 640, 3), 90, dtype=np.uint8)
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")


class FailingModel(CountingFakeModel):
    """The fake model, raising the scripted errors on its first calls."""

    def __init__(self, layer, *errors: BaseException) -> None:
        super().__init__(layer)
        self.errors = list(errors)

    def __call__(self, *args, **kwargs):
        if self.errors:
            raise self.errors.pop(0)
        return super().__call__(*args, **kwargs)


def _pipeline(model, info, device: str = "cpu") -> Pipeline:
    return Pipeline(
        PipelineConfig(detector="external", device=device), model=model, model_info=info
    )


def test_auto_picks_cuda_only_when_torch_sees_it() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@NO_CUDA
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_a_missing_gpu_is_named_with_the_fix(name) -> None:
    with pytest.raises(ValueError, match=r"sees no CUDA device.*nvidia-smi.*'auto' or 'cpu'"):
        resolve_device(name)


def test_bad_device_names_are_refused(fake_model, fake_model_info) -> None:
    with pytest.raises(ValueError, match="'device' is 'gpu'; use auto, cpu, cuda or cuda:N"):
        resolve_device("gpu")
    with pytest.raises(ValueError, match="'cuda0'"):
        _pipeline(fake_model, fake_model_info, device="cuda0")


@NO_CUDA
def test_pipeline_on_auto_runs_on_the_cpu_here(fake_model, fake_model_info) -> None:
    pipeline = _pipeline(fake_model, fake_model_info, device="auto")
    assert pipeline.config.device == "cpu" and pipeline.device == torch.device("cpu")
    assert pipeline.device_health()["device"] == "cpu"
    assert pipeline.process(FRAME, boxes=[person_at(320, 240, 300)]).people


def test_host_arrays_copy_every_key_once_with_its_shape_and_value() -> None:
    output = {
        "a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "b": torch.tensor([True, False]),
        "c": torch.full((1, 2, 2), 0.1, dtype=torch.float64),
    }
    arrays = host_arrays(output, ["a", "b", "c"])
    for key, tensor in output.items():
        assert arrays[key].dtype == np.float64
        np.testing.assert_array_equal(arrays[key], tensor.to(torch.float64).numpy())
    with pytest.raises(KeyError, match=r"lacks \['d'\]"):
        host_arrays(output, ["a", "d"])


def test_final_output_reads_the_model_keys(fake_model) -> None:
    crops = torch.rand(1, 3, 224, 224)
    output = fake_model(crops, crops, crops, crops)
    final = FinalOutput.from_model(output, with_vertices=True)
    np.testing.assert_array_equal(final.vertices, output["smplx_verts"].double().numpy())
    np.testing.assert_array_equal(final.all_joints, output["smplx_joints"].double().numpy())


def test_an_out_of_memory_frame_is_retried(fake_smplx_layer, fake_model_info) -> None:
    model = FailingModel(fake_smplx_layer, torch.OutOfMemoryError("out of memory"))
    pipeline = _pipeline(model, fake_model_info)
    result = pipeline.process(FRAME, boxes=[person_at(320, 240, 300)])
    assert len(result.people) == 1 and len(model.calls) == 1
    health = pipeline.device_health()
    assert health["device out-of-memory errors"] == "1"
    assert health["device retries that succeeded"] == "1"


def test_a_device_error_skips_the_frame_and_the_next_frame_works(
    fake_smplx_layer, fake_model_info
) -> None:
    model = FailingModel(
        fake_smplx_layer, torch.OutOfMemoryError("out of memory"), torch.OutOfMemoryError("again")
    )
    pipeline = _pipeline(model, fake_model_info)
    with pytest.raises(DeviceError, match="frame skipped"):
        pipeline.process(FRAME, boxes=[person_at(320, 240, 300)])
    assert len(pipeline.process(FRAME, boxes=[person_at(320, 240, 300)]).people) == 1
    assert pipeline.device_health()["device frames lost"] == "1"


def test_an_injected_model_cannot_be_rebuilt_but_a_loader_can(
    fake_smplx_layer, fake_model_info
) -> None:
    """The pipeline's CPU rebuild, driven as the guard drives it after a lost GPU."""
    injected = _pipeline(CountingFakeModel(fake_smplx_layer), fake_model_info)
    with pytest.raises(DeviceError, match="no CPU rebuild"):
        injected._move_to_cpu("device error: test")
    built: list[str] = []

    def loader(config: PipelineConfig):
        built.append(config.device)
        return CountingFakeModel(fake_smplx_layer), fake_model_info

    pipeline = Pipeline(PipelineConfig(detector="external", device="cpu"), model_loader=loader)
    pipeline._move_to_cpu("device error: test")
    assert built == ["cpu", "cpu"]
    assert pipeline.process(FRAME, boxes=[person_at(320, 240, 300)]).people
