"""Keep inference alive through accelerator failures: out of memory and a lost device.

Policy (why): an out-of-memory error is usually transient (another process took memory, a
crowded frame needed a larger batch), so the cached blocks are freed and the frame is retried
once; a frame that still does not fit is skipped (``DeviceError``). Only after
``max_consecutive_oom`` skipped frames in a row does inference move to the CPU, because the CPU
is 10-50x slower. Any other CUDA error (launch failure, illegal address, a device that fell off
the bus) leaves the CUDA context unusable until the process restarts, so retrying there is
pointless: inference moves to the CPU at once and the frame is rerun there. Nothing moves back
to the GPU by itself; restarting the node does. Every event is counted for the diagnostics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch

LOG = logging.getLogger(__name__)

T = TypeVar("T")

OUT_OF_MEMORY = "out_of_memory"
DEVICE_LOST = "device_lost"
# Texts of CUDA/cuBLAS/cuDNN/TensorRT failures that older code paths raise as plain
# RuntimeErrors (torch.AcceleratorError covers the CUDA runtime's own since torch 2.8).
_DEVICE_ERROR_TEXTS = (
    "cuda error",
    "cuda driver error",
    "cublas_status",
    "cudnn_status",
    "cudnn error",
    "device-side assert",
    "illegal memory access",
    "unspecified launch failure",
    "no cuda gpus are available",
    "cuda-capable device",
)


# torch.AcceleratorError appeared in torch 2.8; older builds (Jetson's) raise RuntimeErrors.
_ACCELERATOR_ERROR: type | tuple[type, ...] = getattr(torch, "AcceleratorError", ())


class DeviceError(RuntimeError):
    """A frame lost to the accelerator (out of memory, lost device); the pipeline keeps
    running and the next frame is tried again."""

    failure_kind = "device_error"  # the node counts failed frames by this kind


def classify_device_error(error: BaseException) -> str | None:
    """``OUT_OF_MEMORY``, ``DEVICE_LOST`` or None (not an accelerator failure)."""
    if isinstance(error, torch.OutOfMemoryError):
        return OUT_OF_MEMORY
    if not isinstance(error, RuntimeError):
        return None
    text = str(error).lower()
    if "out of memory" in text:
        return OUT_OF_MEMORY
    if isinstance(error, _ACCELERATOR_ERROR) or any(t in text for t in _DEVICE_ERROR_TEXTS):
        return DEVICE_LOST
    return None


@dataclass
class DeviceHealth:
    """What the diagnostics report about the device (plain counters)."""

    requested: str
    active: str
    out_of_memory: int = 0  # OOM errors seen
    recovered: int = 0  # frames saved by a retry after freeing the cache
    lost_frames: int = 0  # frames skipped because of the device
    fallback: str = ""  # why inference left the requested device; '' while it has not

    def as_values(self) -> dict[str, str]:
        """Diagnostic key/value pairs."""
        return {
            "device": self.active,
            "device requested": self.requested,
            "device fallback": self.fallback or "none",
            "device out-of-memory errors": str(self.out_of_memory),
            "device retries that succeeded": str(self.recovered),
            "device frames lost": str(self.lost_frames),
        }


def free_cached_memory(device: torch.device) -> None:
    """Return the CUDA caching allocator's free blocks to the driver (no-op elsewhere)."""
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()


class DeviceGuard:
    """Runs one frame's device work under the policy above.

    ``move_to_cpu(why)`` must rebuild whatever ``step`` uses on the CPU; ``step`` must read
    the current device and model each time it runs (it is rerun after a move).
    """

    def __init__(
        self,
        device: torch.device,
        move_to_cpu: Callable[[str], None],
        max_consecutive_oom: int = 3,
        free_memory: Callable[[torch.device], None] = free_cached_memory,
    ) -> None:
        if max_consecutive_oom < 1:
            raise ValueError(f"max_consecutive_oom must be >= 1, got {max_consecutive_oom}")
        self.device = device
        self.health = DeviceHealth(requested=str(device), active=str(device))
        self._move_to_cpu = move_to_cpu
        self._free_memory = free_memory
        self._max_oom = max_consecutive_oom
        self._oom_in_a_row = 0

    @property
    def on_cpu(self) -> bool:
        return self.device.type == "cpu"

    def run(self, step: Callable[[], T]) -> T:
        """``step()``; on an accelerator failure retry, skip (``DeviceError``) or move to
        the CPU and rerun. Other errors propagate unchanged."""
        try:
            result = step()
        except RuntimeError as error:
            kind = classify_device_error(error)
            if kind is None:
                raise
            return self._recover(kind, error, step)
        self._oom_in_a_row = 0
        return result

    def _recover(self, kind: str, error: RuntimeError, step: Callable[[], T]) -> T:
        if kind == DEVICE_LOST:
            return self._leave_device(f"device error: {_first_line(error)}", error, step)
        self.health.out_of_memory += 1
        self._free_memory(self.device)
        try:
            result = step()
        except RuntimeError as again:
            kind_again = classify_device_error(again)
            if kind_again is None:
                raise
            if kind_again == DEVICE_LOST:
                return self._leave_device(f"device error: {_first_line(again)}", again, step)
            self.health.out_of_memory += 1
            self._oom_in_a_row += 1
            if self._oom_in_a_row >= self._max_oom and not self.on_cpu:
                why = f"out of memory on {self._oom_in_a_row} frames in a row"
                return self._leave_device(why, again, step)
            self.health.lost_frames += 1
            raise DeviceError(
                f"{self.device} ran out of memory twice on this frame, frame skipped "
                f"({self._oom_in_a_row} in a row; after {self._max_oom} inference moves to "
                f"the CPU). Lower max_people or free GPU memory. {_first_line(again)}"
            ) from again
        self.health.recovered += 1
        self._oom_in_a_row = 0
        return result

    def moved_to_cpu(self, why: str) -> None:
        """Record that inference now runs on the CPU (also used when loading fell back)."""
        self.device = torch.device("cpu")
        self.health.active = "cpu"
        self.health.fallback = f"{why} (on {self.health.requested})"
        self._oom_in_a_row = 0

    def _leave_device(self, why: str, error: RuntimeError, step: Callable[[], T]) -> T:
        if self.on_cpu:
            self.health.lost_frames += 1
            raise DeviceError(f"inference failed on the CPU: {why}") from error
        LOG.error(
            "%s on %s: moving inference to the CPU (much slower; restart the node to use the "
            "GPU again)",
            why,
            self.device,
        )
        try:
            self._move_to_cpu(why)
        except Exception:
            self.health.lost_frames += 1
            raise
        self.moved_to_cpu(why)
        return step()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
