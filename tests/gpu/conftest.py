"""GPU tests: the CUDA path end to end. They need a CUDA device and skip without one; on a GPU
machine ``scripts/gpu_check.sh`` runs them together with the agreement check and benchmarks."""

from __future__ import annotations

import copy

import pytest
import torch

NEEDS_CUDA = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False); scripts/gpu_check.sh "
    "runs these on a GPU machine",
)


def pytest_collection_modifyitems(items) -> None:
    """Every test in this folder needs CUDA."""
    for item in items:
        if "tests/gpu/" in str(item.path).replace("\\", "/"):
            item.add_marker(NEEDS_CUDA)


@pytest.fixture(scope="session")
def cpu_and_cuda_models(seeded_model_build):
    """The session's seeded model prepared for inference, on the CPU and a copy on CUDA."""
    module, info = seeded_model_build
    cpu = copy.deepcopy(module)
    cpu.prepare_for_inference()
    cuda = copy.deepcopy(module).to("cuda")
    cuda.prepare_for_inference()
    return cpu, cuda, info


@pytest.fixture
def exact_fp32():
    """TF32 off while comparing against the CPU (cuDNN uses it for convolutions by default)."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
