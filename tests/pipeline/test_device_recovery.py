"""The device-failure policy, with the failures injected on the CPU: out-of-memory retried,
then skipped, then the CPU; a lost device leaves for the CPU at once; other errors untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pymafx_ros.pipeline.device_recovery import (
    DEVICE_LOST,
    OUT_OF_MEMORY,
    DeviceError,
    DeviceGuard,
    classify_device_error,
)

CUDA = torch.device("cuda:0")  # a label only: the guard never touches the device itself


class _Scripted:
    """A frame step that raises the scripted errors in order, then returns the device."""

    def __init__(self, guard: DeviceGuard, *errors: BaseException | None) -> None:
        self.guard = guard
        self.errors = list(errors)
        self.calls: list[str] = []

    def __call__(self) -> str:
        self.calls.append(str(self.guard.device))
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return str(self.guard.device)


def _oom() -> torch.OutOfMemoryError:
    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def _guard(**kwargs) -> tuple[DeviceGuard, list[str], list[torch.device]]:
    moves: list[str] = []
    freed: list[torch.device] = []
    guard = DeviceGuard(CUDA, moves.append, free_memory=freed.append, **kwargs)
    return guard, moves, freed


def test_one_out_of_memory_is_retried_after_freeing_the_cache() -> None:
    guard, moves, freed = _guard()
    step = _Scripted(guard, _oom())
    assert guard.run(step) == "cuda:0"
    assert step.calls == ["cuda:0", "cuda:0"] and freed == [CUDA] and moves == []
    health = guard.health
    assert (health.out_of_memory, health.recovered, health.lost_frames) == (1, 1, 0)


def test_a_frame_that_never_fits_is_skipped_and_the_next_one_runs() -> None:
    guard, moves, _ = _guard()
    with pytest.raises(DeviceError, match="out of memory twice"):
        guard.run(_Scripted(guard, _oom(), _oom()))
    assert guard.health.lost_frames == 1 and moves == [] and guard.device == CUDA
    assert guard.run(_Scripted(guard)) == "cuda:0"


def test_persistent_out_of_memory_moves_to_the_cpu_and_reruns_the_frame() -> None:
    guard, moves, _ = _guard(max_consecutive_oom=3)
    for _ in range(2):
        with pytest.raises(DeviceError):
            guard.run(_Scripted(guard, _oom(), _oom()))
    step = _Scripted(guard, _oom(), _oom())
    assert guard.run(step) == "cpu"
    assert step.calls == ["cuda:0", "cuda:0", "cpu"]
    assert moves == ["out of memory on 3 frames in a row"]
    values = guard.health.as_values()
    assert values["device"] == "cpu" and values["device requested"] == "cuda:0"
    assert "3 frames in a row" in values["device fallback"]
    assert values["device frames lost"] == "2"


def test_a_success_resets_the_out_of_memory_streak() -> None:
    guard, moves, _ = _guard(max_consecutive_oom=2)
    with pytest.raises(DeviceError):
        guard.run(_Scripted(guard, _oom(), _oom()))
    guard.run(_Scripted(guard))
    with pytest.raises(DeviceError):
        guard.run(_Scripted(guard, _oom(), _oom()))
    assert moves == [] and guard.device == CUDA


@pytest.mark.parametrize(
    "error",
    [
        torch.AcceleratorError("CUDA error: unspecified launch failure"),
        RuntimeError("CUDA error: an illegal memory access was encountered"),
        RuntimeError("cuDNN error: CUDNN_STATUS_EXECUTION_FAILED"),
    ],
    ids=["accelerator_error", "illegal_address", "cudnn"],
)
def test_a_lost_device_moves_to_the_cpu_at_once(error) -> None:
    guard, moves, freed = _guard()
    step = _Scripted(guard, error)
    assert guard.run(step) == "cpu"
    assert step.calls == ["cuda:0", "cpu"] and freed == []
    assert len(moves) == 1 and moves[0].startswith("device error: ")
    assert guard.health.fallback.endswith("(on cuda:0)")


@pytest.mark.parametrize(
    "error", [ValueError("bad boxes"), RuntimeError("mat1 and mat2 shapes cannot be multiplied")]
)
def test_other_errors_pass_through_untouched(error) -> None:
    guard, moves, freed = _guard()
    with pytest.raises(type(error), match=str(error)):
        guard.run(_Scripted(guard, error))
    assert moves == [] and freed == [] and guard.health.out_of_memory == 0


def test_on_the_cpu_a_device_error_skips_the_frame() -> None:
    guard = DeviceGuard(torch.device("cpu"), lambda why: pytest.fail("already on the CPU"))
    with pytest.raises(DeviceError, match="on the CPU"):
        guard.run(_Scripted(guard, RuntimeError("CUDA error: misplaced tensor")))
    assert guard.health.lost_frames == 1


def test_a_failing_move_counts_the_frame_and_raises() -> None:
    def cannot_move(why: str) -> None:
        raise DeviceError(f"{why}; no CPU rebuild")

    guard = DeviceGuard(CUDA, cannot_move)
    with pytest.raises(DeviceError, match="no CPU rebuild"):
        guard.run(_Scripted(guard, torch.AcceleratorError("CUDA error: device lost")))
    assert guard.health.lost_frames == 1


def test_classification() -> None:
    assert classify_device_error(_oom()) == OUT_OF_MEMORY
    assert classify_device_error(RuntimeError("CUDA out of memory.")) == OUT_OF_MEMORY
    assert classify_device_error(torch.AcceleratorError("CUDA error: x")) == DEVICE_LOST
    assert classify_device_error(RuntimeError("CUBLAS_STATUS_EXECUTION_FAILED")) == DEVICE_LOST
    assert classify_device_error(RuntimeError("shape '[2, 3]' is invalid")) is None
    assert classify_device_error(KeyError("cuda error")) is None
    assert classify_device_error(np.linalg.LinAlgError("singular")) is None
