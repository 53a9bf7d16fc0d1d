"""GPU timings of the PyMAF-X port: eager fp32 / fp16 encoders, compiled fp16, TensorRT fp16.

Prints one JSON object per line: {"variant", "stage", "median_ms", "min_ms", "p90_ms",
"repeats", "people", "ratio_vs_eager_fp32", "gpu", ...} and, per variant, an "agreement" line
against eager fp32 with TF32 off (joints in mm: mean/max, NaN count). Stage ``full_forward`` is
``predict`` as the pipeline calls it (all three experts, both hands visible, joints only), on
crops of the astronaut photo already on the GPU; ``full_forward_mesh`` adds the SMPL-X mesh.
Timed with CUDA events after a warm-up (cuDNN autotuning). Variants:

* ``eager_fp32``: the model as the pipeline runs it, PyTorch's default TF32 settings;
* ``eager_fp16_encoders``: the three CNN encoders under fp16 autocast, the rest in fp32;
* ``compiled_fp16``: the ``torch_compile`` backend (inductor, CUDA graphs; fp16 encoders, fp32
  head without TF32, as the TensorRT engines are typed), compiled for ``--max-people`` first
  (minutes; the compile time is printed);
* ``tensorrt_fp16``: the ``tensorrt`` backend (fp16 encoders, fp32 head) on the engines in the
  cache (``pymafx-ros build-engines --max-people N``; ``--build-engines`` builds missing ones
  here, minutes), else a line saying why it was skipped. Its lines carry the issue's targets:
  ``full_forward`` <= 8 ms for one person and >= 3x faster than eager fp32 in the same run.

    python benchmarks/model_gpu.py [--repeats 50] [--warmup 10] [--people 1]
        [--max-people 3] [--build-engines] [--variants eager_fp32,compiled_fp16,...]

Each agreement line says whether the issue's bounds hold (mean <= 2 mm, max <= 10 mm, no NaN).

Exits with status 2 and a message without CUDA. Placeholder weights time like real ones.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.types import PartBox
from pymafx_ros.model.factory import build_model
from pymafx_ros.pipeline.crops import crop_uint8, normalise_crops
from pymafx_ros.pipeline.devices import describe_device


class _HalfEncoder(nn.Module):
    """An encoder run under fp16 autocast whose pyramid comes back in fp32 (rotations,
    regressors and skinning stay fp32: fp16 epsilons give NaN at zero rotation)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.autocast("cuda", dtype=torch.float16):
            levels = self.encoder(x)
        return [level.float() for level in levels]


@contextlib.contextmanager
def fp16_encoders(model) -> Iterator[None]:
    """Temporarily wrap every encoder of ``model`` in ``_HalfEncoder``."""
    plain = dict(model.encoders.items())
    for name, encoder in plain.items():
        model.encoders[name] = _HalfEncoder(encoder)
    try:
        yield
    finally:
        for name, encoder in plain.items():
            model.encoders[name] = encoder


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def astronaut_crops(people: int, device: torch.device) -> list[torch.Tensor]:
    """Body, left hand, right hand and face crops [people, 3, 224, 224] of the sample photo."""
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut())
    parts = default_parts(PartBox(256.0, 300.0, 500.0))
    boxes = [(256.0, 300.0, 500.0)] + [
        (parts[name].cx, parts[name].cy, parts[name].size)
        for name in ("left_hand", "right_hand", "face")
    ]
    crops = normalise_crops(crop_uint8(photo, np.array(boxes)), device)
    return [crops[i : i + 1].expand(people, -1, -1, -1).contiguous() for i in range(4)]


def time_cuda(run: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Milliseconds per call between CUDA events (the GPU's time, launches included)."""
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def tensorrt_missing(device: torch.device) -> str:
    """Why the tensorrt backend cannot run here ('' when it can)."""
    from pymafx_ros.backends.tensorrt.compiler import TorchTensorRTCompiler

    return "; ".join(TorchTensorRTCompiler().missing(device))


def tensorrt_backend(device: torch.device, max_people: int, build: bool):
    """The tensorrt fp16 backend with both pipeline profiles loaded (or the reason it cannot
    run, as a string), on its own plain model (the exported programs need one)."""
    from pymafx_ros.backends.cpu_features import detect_cpu_features
    from pymafx_ros.backends.names import BackendUnavailableError
    from pymafx_ros.backends.tensorrt.options import EngineOptions
    from pymafx_ros.backends.tensorrt_backend import TensorRTBackend

    missing = tensorrt_missing(device)
    if missing:
        return missing
    model, _ = build_model(device=device)
    options = EngineOptions(max_people=max_people, build=build)
    try:
        backend = TensorRTBackend(model, "fp16", detect_cpu_features(), device, engines=options)
        for profile in ("joints", "mesh"):
            backend.prepare(profile)
    except BackendUnavailableError as error:
        return str(error)
    backend.release_model()
    return backend


VARIANTS = ("eager_fp32", "eager_fp16_encoders", "compiled_fp16", "tensorrt_fp16")
MEAN_MM, MAX_MM = 2.0, 10.0


def compiled_backend(device: torch.device, max_people: int):
    """The torch_compile fp16 backend with both pipeline profiles compiled, on its own plain
    model, and the seconds compiling took."""
    import time

    from pymafx_ros.backends.compiled_backend import TorchCompileBackend
    from pymafx_ros.backends.cpu_features import detect_cpu_features

    model, _ = build_model(device=device)
    start = time.perf_counter()
    backend = TorchCompileBackend(model, "fp16", detect_cpu_features(), max_people)
    for profile in ("joints", "mesh"):
        backend.prepare(profile)
    return backend, time.perf_counter() - start


def _variants(text: str) -> tuple[str, ...]:
    names = tuple(name for name in text.split(",") if name)
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"variants: comma-separated of {', '.join(VARIANTS)}")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``argv``: None for sys.argv)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--people", type=int, default=1)
    parser.add_argument(
        "--max-people", type=int, default=3, help="the TensorRT engines' batch limit"
    )
    parser.add_argument(
        "--build-engines", action="store_true", help="build missing TensorRT engines here"
    )
    parser.add_argument(
        "--variants",
        type=_variants,
        default=VARIANTS,
        help=f"comma-separated, in this order: {','.join(VARIANTS)} (default: all)",
    )
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    if not torch.cuda.is_available():
        print(
            "model_gpu.py: no CUDA device (torch.cuda.is_available() is False, torch "
            f"{torch.__version__}); run it on a GPU machine (scripts/gpu_check.sh)",
            file=sys.stderr,
        )
        return 2
    device = torch.device("cuda")
    # First: its plain model is released once the engines are loaded.
    largest = max(args.max_people, args.people)
    tensorrt = "not asked for (--variants)"
    if "tensorrt_fp16" in args.variants:
        tensorrt = tensorrt_backend(device, largest, args.build_engines)
    model, _ = build_model(device=device)
    model.prepare_for_inference()
    crops = astronaut_crops(args.people, device)
    visible = torch.full((args.people,), 0.8)  # host scores, as the pipeline passes them
    vis = {"vis_lhand": visible, "vis_rhand": visible}
    context = {
        "people": args.people,
        "repeats": args.repeats,
        "gpu": describe_device(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
    }

    def predict(profile: str) -> Callable[[], dict[str, torch.Tensor]]:
        return lambda: model.predict(*crops, **vis, profile=profile)

    with torch.inference_mode():
        with tf32(False):
            reference = predict("joints")()["smplx_joints"].float().cpu()
        baseline: dict[str, float] = {}
        for variant, scope in (
            ("eager_fp32", contextlib.nullcontext()),
            ("eager_fp16_encoders", fp16_encoders(model)),
        ):
            # eager fp32 always runs first: the ratios of every other variant are against it.
            if variant == "eager_fp32" or variant in args.variants:
                with scope:
                    _report(variant, predict, reference, baseline, context, args)
        if "compiled_fp16" in args.variants:
            compiled, seconds = compiled_backend(device, largest)
            print(json.dumps({"variant": "compiled_fp16", "compile_s": round(seconds, 1)}))

            def compiled_call(outputs: str) -> Callable[[], dict[str, torch.Tensor]]:
                return lambda: compiled.predict(*crops, **vis, profile=outputs)

            _report("compiled_fp16", compiled_call, reference, baseline, context, args)
            del compiled
        if isinstance(tensorrt, str):
            print(json.dumps({"variant": "tensorrt_fp16", "skipped": tensorrt, **context}))
            return 0

        def engines(profile: str) -> Callable[[], dict[str, torch.Tensor]]:
            return lambda: tensorrt.predict(*crops, **vis, profile=profile).as_dict()

        _report("tensorrt_fp16", engines, reference, baseline, context, args)
    return 0


def _report(variant, make, reference, baseline, context, args) -> None:
    """Time both stages of one variant and check its joints against the reference."""
    for stage, outputs in (("full_forward", "joints"), ("full_forward_mesh", "mesh")):
        times = time_cuda(make(outputs), args.warmup, args.repeats)
        median = statistics.median(times)
        baseline.setdefault(stage, median)
        record = {
            "variant": variant,
            "stage": stage,
            "median_ms": round(median, 3),
            "min_ms": round(min(times), 3),
            "p90_ms": round(float(np.percentile(times, 90)), 3),
            "ratio_vs_eager_fp32": round(median / baseline[stage], 3),
            **context,
        }
        fast = variant.startswith(("tensorrt", "compiled"))
        if fast and stage == "full_forward" and args.people == 1:
            record["target_8ms_met"] = median <= 8.0
            record["target_3x_met"] = baseline[stage] / median >= 3.0
        print(json.dumps(record), flush=True)
    result = make("joints")()
    # A backend gives a BackendOutput, the model itself a dict.
    joints = getattr(result, "smplx_joints", None)
    joints = (result["smplx_joints"] if joints is None else joints).float().cpu()
    error_mm = 1e3 * torch.linalg.vector_norm(joints - reference, dim=-1)
    agreement = {
        "variant": variant,
        "agreement_vs": "eager fp32, TF32 off",
        "joints_mm_mean": round(float(error_mm.nan_to_num(float("inf")).mean()), 4),
        "joints_mm_max": round(float(error_mm.nan_to_num(float("inf")).max()), 4),
        "nan_count": int(torch.isnan(joints).sum()),
    }
    agreement["within_bounds"] = (
        agreement["nan_count"] == 0
        and agreement["joints_mm_mean"] <= MEAN_MM
        and agreement["joints_mm_max"] <= MAX_MM
    )
    print(json.dumps(agreement), flush=True)


if __name__ == "__main__":
    sys.exit(main())
