"""Threads of the model stage beside the front end (``pipeline.thread_budget``)."""

from __future__ import annotations

import torch

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.thread_budget import model_threads

CPU = torch.device("cpu")


def test_a_set_thread_count_is_kept() -> None:
    assert model_threads(PipelineConfig(backend="torch", num_threads=3), CPU, cores=8) == 3


def test_eager_torch_leaves_the_front_end_a_core() -> None:
    assert model_threads(PipelineConfig(backend="torch"), CPU, cores=8) == 7
    # Two cores: one thread would cost the model more than the overlap saves.
    assert model_threads(PipelineConfig(backend="torch"), CPU, cores=2) == 0
    # One after the other, the model has every core.
    config = PipelineConfig(backend="torch", overlap_front_end=False)
    assert model_threads(config, CPU, cores=8) == 0


def test_engines_that_do_not_spin_keep_every_core() -> None:
    assert model_threads(PipelineConfig(backend="onnxruntime"), CPU, cores=8) == 0
    assert model_threads(PipelineConfig(backend="openvino"), CPU, cores=8) == 0


def test_a_gpu_is_left_alone() -> None:
    assert model_threads(PipelineConfig(backend="torch"), torch.device("cuda"), cores=8) == 0
