"""Whether the front end runs beside the model, and the model's threads (``thread_budget``)."""

from __future__ import annotations

import torch

from pymafx_ros.config import PipelineConfig
from pymafx_ros.pipeline.thread_budget import stage_plan

CPU = torch.device("cpu")


def test_enough_cores_overlap_and_the_model_leaves_the_front_end_one() -> None:
    for backend in ("torch", "openvino", "onnxruntime"):
        plan = stage_plan(PipelineConfig(backend=backend), CPU, cores=8)
        assert plan.overlap and plan.threads == 7, plan


def test_two_cores_run_one_after_the_other_with_every_core() -> None:
    # Measured: beside the front end the model loses more than the front end's time.
    plan = stage_plan(PipelineConfig(backend="openvino"), CPU, cores=2)
    assert not plan.overlap and plan.threads == 0
    assert "2 cores" in plan.reason and "num_threads" in plan.reason


def test_a_set_thread_count_overlaps_only_when_it_leaves_a_core() -> None:
    plan = stage_plan(PipelineConfig(num_threads=1), CPU, cores=2)
    assert plan.overlap and plan.threads == 1
    plan = stage_plan(PipelineConfig(num_threads=2), CPU, cores=2)
    assert not plan.overlap and plan.threads == 2


def test_overlap_off_is_kept_and_a_gpu_always_overlaps() -> None:
    plan = stage_plan(PipelineConfig(overlap_front_end=False), CPU, cores=8)
    assert not plan.overlap and plan.threads == 0
    plan = stage_plan(PipelineConfig(), torch.device("cuda"), cores=2)
    assert plan.overlap and plan.threads == 0
