"""The model's per-frame call must not talk to the host: on a GPU, a tensor built from Python
data inside ``predict`` is a host-to-device copy and a value read on the host (``.item()``,
``nonzero``, a boolean mask) is a synchronisation, each stalling the stream. Checked on the CPU
by recording the dispatched operators; the GPU script repeats it with CUDA's sync debug mode."""

from __future__ import annotations

import collections
import traceback

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Operators that build a tensor from host data (a copy to the device on a GPU).
_FROM_HOST = {"aten.lift_fresh.default", "aten.lift_fresh_copy.default"}
# Operators that read device values on the host (a synchronisation on a GPU).
_READS_VALUES = {
    "aten.item.default",
    "aten._local_scalar_dense.default",
    "aten.is_nonzero.default",
    "aten.nonzero.default",
    "aten.masked_select.default",
    "aten.equal.default",
    "aten._unique2.default",
}


# Reads made on host tensors by design: select_hands picks the visible hands from the mask
# computed where the visibilities live, the host for the pipeline (its detector scores), so
# there it costs no synchronisation. CUDA's sync debug mode checks it on a GPU (tests/gpu).
_HOST_SIDE_SITES = ("pymafx_ros/model/hand_rows.py",)


class _HostTraffic(TorchDispatchMode):
    """Counts host-bound operators by (operator, innermost pymafx_ros or smplx source line)."""

    def __init__(self) -> None:
        super().__init__()
        self.from_host: collections.Counter[str] = collections.Counter()
        self.reads: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        bool_index = name.startswith("aten.index") and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool
            for i in (args[1] if len(args) > 1 and isinstance(args[1], list | tuple) else ())
        )
        if name in _FROM_HOST:
            self.from_host[f"{name} at {_where()}"] += 1
        elif name in _READS_VALUES or bool_index:
            where = _where()
            if not any(site in where for site in _HOST_SIDE_SITES):
                self.reads[f"{name} at {where}"] += 1
        return func(*args, **(kwargs or {}))


def _where() -> str:
    frames = [
        f
        for f in traceback.extract_stack()
        if ("pymafx_ros" in f.filename or "smplx" in f.filename) and "tests" not in f.filename
    ]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "torch internals"


def _traffic(model, visibilities: bool) -> _HostTraffic:
    generator = torch.Generator().manual_seed(0)
    crops = [torch.randn(2, 3, 224, 224, generator=generator) for _ in range(4)]
    extra = {}
    if visibilities:
        extra = {"vis_lhand": torch.tensor([0.05, 0.9]), "vis_rhand": torch.tensor([0.8, 0.1])}
    recorder = _HostTraffic()
    with torch.inference_mode(), recorder:
        model.predict(*crops, **extra, profile="mesh")
    return recorder


@pytest.mark.parametrize("visibilities", [True, False], ids=["detector_vis", "predicted_vis"])
def test_predict_builds_no_tensor_from_host_data(seeded_model, visibilities) -> None:
    recorder = _traffic(seeded_model, visibilities)
    assert not recorder.from_host, dict(recorder.from_host)


def test_predict_reads_no_device_value_on_the_host(seeded_model) -> None:
    recorder = _traffic(seeded_model, visibilities=True)
    assert not recorder.reads, dict(recorder.reads)


def test_the_recorder_sees_host_traffic() -> None:
    """The check above can fail: both kinds of traffic are recorded when present."""
    recorder = _HostTraffic()
    with recorder:
        x = torch.tensor([1.0, -2.0])
        float(x.sum())
        x[x > 0]
    assert sum(recorder.from_host.values()) == 1
    assert sum(recorder.reads.values()) == 2
