"""The auto rules, the refusals and the missing-library message, by backend name."""

from __future__ import annotations

import sys

import pytest

from pymafx_ros.backends import selection
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import choose_backend, create_backend
from pymafx_ros.config import PipelineConfig

AMX = CpuFeatures("Intel Xeon", frozenset({"avx512f", "amx_tile", "amx_bf16"}))
AVX512_BF16 = CpuFeatures("AMD EPYC", frozenset({"avx512f", "avx512_bf16"}))
PLAIN = CpuFeatures("AMD EPYC 7B13", frozenset({"avx2", "fma"}))


@pytest.fixture
def installed(monkeypatch):
    """Pretend a given set of optional engines is installed."""

    def pretend(*modules: str) -> None:
        monkeypatch.setattr(selection, "_installed", lambda name: name in modules)

    return pretend


def test_auto_prefers_openvino_then_onnxruntime_then_torch(installed):
    installed("openvino", "onnxruntime")
    assert choose_backend("auto", "fp32", "cpu", PLAIN).backend == "openvino"
    installed("onnxruntime")
    assert choose_backend("auto", "fp32", "cpu", PLAIN).backend == "onnxruntime"
    installed()
    choice = choose_backend("auto", "fp32", "cpu", PLAIN)
    assert choice.backend == "torch" and "neither" in choice.reason
    installed("openvino")
    assert choose_backend("auto", "auto", "cuda:0", AMX) == selection.BackendChoice(
        "torch",
        "fp32",
        "backend auto -> torch: device cuda:0 (the exported CPU engines run on the CPU); "
        "precision auto -> fp32: bf16 is offered for CPUs only",
    )


def test_auto_precision_uses_bf16_only_with_native_support(installed):
    installed("openvino", "onnxruntime")
    for cpu, flag in ((AMX, "AMX"), (AVX512_BF16, "AVX512-BF16")):
        choice = choose_backend("openvino", "auto", "cpu", cpu)
        assert choice.precision == "bf16" and flag in choice.reason
    assert choose_backend("openvino", "auto", "cpu", PLAIN).precision == "fp32"
    assert choose_backend("onnxruntime", "auto", "cpu", AMX).precision == "fp32"
    assert choose_backend("torch", "auto", "cpu", AVX512_BF16).precision == "bf16"


@pytest.mark.parametrize(
    ("backend", "precision", "device", "cpu", "message"),
    [
        ("openvino", "bf16", "cpu", PLAIN, "native bf16"),
        ("onnxruntime", "bf16", "cpu", AMX, "fp32 only"),
        ("tensorrt", "bf16", "cuda", AMX, "fp16 or fp32 engines"),
        ("torch", "fp16", "cpu", AMX, "fp16 runs on CUDA only"),
        ("openvino", "fp16", "cpu", AMX, "fp16 runs on CUDA only"),
        ("torch_compile", "fp16", "cpu", AMX, "fp16 on CUDA or fp32"),
        ("torch_compile", "bf16", "cpu", AMX, "fp16 on CUDA or fp32"),
        ("openvino", "fp32", "cuda", AMX, "runs on the CPU"),
        ("torch", "bf16", "cuda", AMX, "CPU inference only"),
    ],
)
def test_impossible_combinations_are_refused(backend, precision, device, cpu, message):
    with pytest.raises(BackendUnavailableError, match=message):
        choose_backend(backend, precision, device, cpu)


def test_torch_compile_runs_fp16_encoders_on_cuda_and_fp32_on_the_cpu():
    on_gpu = choose_backend("torch_compile", "auto", "cuda:0", AMX)
    assert (on_gpu.backend, on_gpu.precision) == ("torch_compile", "fp16")
    assert "fp16 encoders, fp32 head on CUDA" in on_gpu.reason
    assert choose_backend("torch_compile", "auto", "cpu", AMX).precision == "fp32"
    assert choose_backend("torch_compile", "fp32", "cuda", PLAIN).precision == "fp32"
    assert choose_backend("torch", "fp16", "cuda", PLAIN).precision == "fp16"  # eager fp16


def test_unknown_names_list_the_choices():
    # The names are options: the config checks them once, before any backend is chosen.
    names = r"torch, torch_compile, onnxruntime, openvino"
    with pytest.raises(ValueError, match=rf"'backend' is 'tvm'.*{names}"):
        PipelineConfig(backend="tvm").validate()
    with pytest.raises(ValueError, match=r"'precision' is 'fp8'.*auto, fp32, bf16, fp16"):
        PipelineConfig(precision="fp8").validate()


@pytest.mark.parametrize(
    ("backend", "package"), [("onnxruntime", "onnxruntime"), ("openvino", "openvino")]
)
def test_a_missing_engine_names_its_pip_package(monkeypatch, seeded_model, backend, package):
    monkeypatch.setitem(sys.modules, package, None)  # import now raises ImportError
    with pytest.raises(BackendUnavailableError) as error:
        create_backend(seeded_model, BackendOptions(backend, "fp32", cpu=PLAIN))
    message = str(error.value)
    assert f"Python package '{package}'" in message and f"pip install {package}==" in message
    assert "torch needs nothing extra" in message
