"""Which backend and precision to run, and building it.

``auto`` rules (measured on this project's 2-core AMD EPYC machine, README "Backends"):

* backend ``auto``: on a CUDA device ``torch`` (``tensorrt`` is chosen explicitly: its engines
  are built ahead of time for one GPU and ``max_people``); on the CPU ``openvino`` when
  installed (fastest in fp32 and the only exported engine with bf16), else ``onnxruntime``
  when installed, else ``torch``;
* precision ``auto``: the fastest precision within a 5 mm bound on joints. By the flags:
  ``bf16`` when the CPU has native bf16 (AMX or AVX512-BF16) and the chosen backend runs bf16
  (openvino, torch), else ``fp32`` (bf16 measured at most 1.8 mm from fp32, README
  "Benchmarks"; ``fp32`` is exact, parity within 1e-4). Where more than one precision qualifies
  on ``openvino`` with int8 among them (int8 on a CPU with int8 dot products when
  ``pymafx-ros calibrate`` recorded a cost within the bound for the loaded weights),
  ``create_backend`` times them once per CPU and keeps the fastest (``auto_precision``); where
  int8 runs but is not in the running, the diagnostics say why.

``int8`` (encoders quantized by NNCF, head fp32) runs on ``openvino`` on a CPU with int8 dot
products (AVX512-VNNI, AVX-VNNI or AMX-INT8). ONNX Runtime is not offered int8: NNCF 3.4.0's
ONNX backend does not import on this Python 3.11 (a ``TensorProto.DataType | np.dtype``
annotation raises TypeError), so there is no NNCF QDQ model to run. An
explicit ``bf16`` on a CPU without native bf16 is refused: it would be emulated, slower than
fp32. ``tensorrt`` and ``torch_compile`` (on CUDA) run ``fp16`` (their ``auto`` there: fp16
encoders, fp32 head) or ``fp32``; eager ``torch`` takes ``fp16`` on CUDA too. ``open_backend``
falls back from a ``tensorrt`` that cannot run here (no CUDA, no Torch-TensorRT, no engine) to
the next backend with a WARN that names the fix.
Every choice is logged with its reason.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, replace

import torch

from pymafx_ros.backends.cpu_features import CpuFeatures, detect_cpu_features
from pymafx_ros.backends.interface import Backend
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.tensorrt.options import EngineOptions
from pymafx_ros.model.pymafx_net import PyMAFX

LOG = logging.getLogger(__name__)

BF16_BACKENDS = ("openvino", "torch")
INT8_BACKENDS = ("openvino",)


@dataclass(frozen=True)
class BackendChoice:
    """A resolved (backend, precision) and why it was chosen."""

    backend: str
    precision: str
    reason: str


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_backend(backend: str, precision: str, device: str, cpu: CpuFeatures) -> BackendChoice:
    """Resolve ``auto`` in ``backend`` / ``precision`` by the module's rules and refuse what
    cannot run here; the names themselves were checked with the config's options."""
    on_gpu = torch.device(device).type != "cpu"
    reasons = []
    if backend == "auto":
        if on_gpu:
            backend, why = "torch", f"device {device} (the exported CPU engines run on the CPU)"
        elif _installed("openvino"):
            backend, why = "openvino", "OpenVINO is installed (fastest measured CPU engine)"
        elif _installed("onnxruntime"):
            backend, why = "onnxruntime", "ONNX Runtime is installed, OpenVINO is not"
        else:
            backend, why = "torch", "neither OpenVINO nor ONNX Runtime is installed"
        reasons.append(f"backend auto -> {backend}: {why}")
    if backend == "tensorrt":
        # Whether CUDA, Torch-TensorRT and an engine are there is the backend's to say.
        if precision in ("bf16", "int8"):
            raise BackendUnavailableError(
                f"backend tensorrt builds fp16 or fp32 engines; {precision} is for the CPU "
                "engines (int8: backend openvino on the CPU)"
            )
        if precision == "auto":
            precision = "fp16"
            reasons.append("precision auto -> fp16: tensorrt runs fp16 encoders, fp32 head")
        return BackendChoice(backend, precision, "; ".join(reasons) or "as configured")
    if backend == "torch_compile":
        return _compiled_precision(precision, on_gpu, device, reasons)
    if precision == "fp16" and not (backend == "torch" and on_gpu):
        raise BackendUnavailableError(
            f"precision fp16 runs on CUDA only (tensorrt, torch_compile, torch: fp16 encoders, "
            f"fp32 head), not {backend} on {device}: choose one of them on a GPU, or precision "
            "fp32 / bf16 / auto"
        )
    if precision == "int8":
        _check_int8(backend, on_gpu, device, cpu)
    if backend != "torch" and on_gpu:
        raise BackendUnavailableError(
            f"backend {backend} runs on the CPU; with device {device} use backend torch or auto"
        )
    if precision == "auto":
        if on_gpu:
            precision, why = "fp32", "bf16 is offered for CPUs only"
        elif not cpu.native_bf16:
            precision, why = "fp32", "this CPU has no native bf16 (AMX or AVX512-BF16)"
        elif backend not in BF16_BACKENDS:
            precision, why = "fp32", f"{backend} runs fp32 only"
        else:
            flag = "AMX" if cpu.amx_bf16 else "AVX512-BF16"
            precision, why = "bf16", f"the CPU has native bf16 ({flag}); encoders in bf16"
        reasons.append(f"precision auto -> {precision}: {why}")
    elif precision == "bf16":
        if on_gpu:
            raise BackendUnavailableError("precision bf16 is offered for CPU inference only")
        if not cpu.native_bf16:
            raise BackendUnavailableError(
                "precision bf16 needs a CPU with native bf16 (AMX or AVX512-BF16); this one "
                f"({cpu.describe()}) would emulate it, slower than fp32: use fp32 or auto"
            )
        if backend not in BF16_BACKENDS:
            raise BackendUnavailableError(
                f"backend {backend} runs fp32 only; bf16 runs on {' or '.join(BF16_BACKENDS)}"
            )
    reason = "; ".join(reasons) or "as configured"
    return BackendChoice(backend, precision, reason)


def _check_int8(backend: str, on_gpu: bool, device: str, cpu: CpuFeatures) -> None:
    """Refuse int8 where it cannot run well: another backend, a GPU, no int8 dot products."""
    if on_gpu:
        raise BackendUnavailableError(
            f"precision int8 runs on the CPU (backend openvino), not on {device}: use device "
            "cpu, or fp16 on the GPU (backend tensorrt or torch_compile)"
        )
    if backend not in INT8_BACKENDS:
        raise BackendUnavailableError(
            f"backend {backend} does not run int8; int8 encoders run on backend "
            f"{' or '.join(INT8_BACKENDS)} (pip install openvino nncf)"
        )
    if not cpu.native_int8:
        raise BackendUnavailableError(
            "precision int8 needs a CPU with int8 dot products (AVX512-VNNI, AVX-VNNI or "
            f"AMX-INT8); this one ({cpu.describe()}) would run it no faster than fp32: use "
            "fp32, bf16 where the CPU has it, or auto"
        )


def _compiled_precision(
    precision: str, on_gpu: bool, device: str, reasons: list[str]
) -> BackendChoice:
    """torch_compile's precision: fp16 encoders + fp32 head on CUDA (its auto), fp32."""
    if precision == "auto":
        precision = "fp16" if on_gpu else "fp32"
        why = "fp16 encoders, fp32 head on CUDA" if on_gpu else "fp32 on the CPU"
        reasons.append(f"precision auto -> {precision}: torch_compile runs {why}")
    elif precision in ("bf16", "int8") or (precision == "fp16" and not on_gpu):
        raise BackendUnavailableError(
            f"backend torch_compile runs fp16 on CUDA or fp32, not {precision} on {device}"
        )
    return BackendChoice("torch_compile", precision, "; ".join(reasons) or "as configured")


def create_backend(model: PyMAFX, options: BackendOptions | None = None) -> Backend:
    """The backend ``options`` ask for, for ``model`` (plain, eval mode, on ``options.device``);
    logs what was chosen and why.

    Exported backends build or load their cached programs lazily; call ``prepare(profile)`` to
    do it up front (``open_backend`` does both)."""
    options = options or BackendOptions()
    cpu = options.cpu or detect_cpu_features()
    choice = choose_backend(options.backend, options.precision, options.device, cpu)
    decision = None
    if options.precision == "auto" and choice.backend == "openvino":
        from pymafx_ros.backends.auto_precision import backend_timer, decide

        options = replace(options, cpu=cpu)
        timer = backend_timer(lambda precision: _fixed(model, options, choice, precision, cpu))
        decision = decide(model, cpu, options, choice.backend, timer)
        if "int8" in decision.costs_mm:  # int8 was in the running: say how it went
            reason = f"{choice.reason}; with int8: {decision.describe()}"
            choice = BackendChoice(choice.backend, decision.precision, reason)
        else:
            decision = None
    backend = _create(model, options, choice, cpu)
    if decision is not None:
        backend.auto_precision = decision.describe()
    return backend


def _fixed(
    model: PyMAFX,
    options: BackendOptions,
    choice: BackendChoice,
    precision: str,
    cpu: CpuFeatures,
) -> Backend:
    """``choice``'s backend in ``precision`` (auto timing its candidates)."""
    fixed = BackendChoice(choice.backend, precision, f"timing {precision} for precision auto")
    return _create(model, replace(options, precision=precision), fixed, cpu)


def _create(
    model: PyMAFX, options: BackendOptions, choice: BackendChoice, cpu: CpuFeatures
) -> Backend:
    """The backend of a resolved ``choice``, logged."""
    LOG.info(
        "inference backend %s, precision %s (%s); CPU %s",
        choice.backend,
        choice.precision,
        choice.reason,
        cpu.describe(),
    )
    if choice.backend == "torch":
        from pymafx_ros.backends.torch_backend import TorchBackend

        return TorchBackend(model, choice.precision, cpu)
    if choice.backend == "torch_compile":
        from pymafx_ros.backends.compiled_backend import TorchCompileBackend

        return TorchCompileBackend(model, choice.precision, cpu, options.engines.max_people)
    if choice.backend == "tensorrt":
        from pymafx_ros.backends.tensorrt_backend import TensorRTBackend

        return TensorRTBackend(
            model, choice.precision, cpu, options.device, options.cache, options.engines
        )
    if choice.backend == "onnxruntime":
        from pymafx_ros.backends.onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(model, choice.precision, cpu, options.cache, options.num_threads)
    from pymafx_ros.backends.openvino_backend import OpenVinoBackend

    return OpenVinoBackend(
        model, choice.precision, cpu, options.cache, options.num_threads, options.calibration
    )


def open_backend(model: PyMAFX, profile: str, options: BackendOptions | None = None) -> Backend:
    """``create_backend`` and ``prepare(profile)``, ready for the first frame.

    A tensorrt backend that cannot run here (no CUDA device, no Torch-TensorRT, no engine built
    for this GPU, weights and ``max_people``, or a build that failed) does not stop the caller:
    a WARN says what is missing and the exact command that fixes it, and the next backend runs
    instead (``auto`` in fp32 on the same device: eager torch on a GPU, the CPU engine
    otherwise); its ``describe()`` carries the reason under ``fallback``."""
    from pymafx_ros.backends.tensorrt_backend import EngineUnavailableError

    options = options or BackendOptions()
    # Detected once: the fallback's rules read the same CPU facts.
    cpu = options.cpu or detect_cpu_features()
    options = replace(options, cpu=cpu)
    try:
        chosen = create_backend(model, options)
        chosen.prepare(profile)
        return chosen
    except EngineUnavailableError as error:
        requested = choose_backend(options.backend, options.precision, options.device, cpu)
        fallback_options = replace(
            options, backend="auto", precision="fp32", engines=EngineOptions()
        )
        fallback = create_backend(model, fallback_options)
        LOG.warning(
            "%s. Falling back to backend %s (%s) on %s.",
            error,
            fallback.name,
            fallback.precision,
            options.device,
        )
        fallback.fallback = f"{requested.backend} {requested.precision} unavailable: {error}"
        fallback.prepare(profile)
        return fallback
