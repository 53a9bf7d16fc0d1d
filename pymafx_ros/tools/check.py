"""``pymafx-ros check``: before launching anything, validate every file the node would load and
say what this machine can run.

Per file: ok, or what is wrong and where the right file comes from. Then the inference back
ends that import here, the CPU's vector features and CUDA. Exit code 0 only when the node
would start with these files on this machine; 2 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymafx_ros.pipeline.model_files import FileReport, check_model_files

# Inference back ends the project uses or plans to (import name -> what it is).
BACKENDS = {
    "torch": "PyTorch (eager; the default back end)",
    "onnxruntime": "ONNX Runtime",
    "openvino": "OpenVINO",
    "tensorrt": "TensorRT",
}
# CPU flags (as /proc/cpuinfo names them) that decide which fast kernels can run.
CPU_FLAGS = (
    "avx2", "fma", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16",
    "amx_tile", "amx_bf16", "amx_int8",
)  # fmt: skip


@dataclass(frozen=True)
class Backend:
    name: str
    description: str
    version: str | None  # None: not importable
    note: str = ""

    def describe(self) -> str:
        if self.version is None:
            return f"{self.name:<12} not available ({self.note})"
        extra = f"; {self.note}" if self.note else ""
        return f"{self.name:<12} {self.version}{extra}"


def probe_backend(name: str, description: str = "") -> Backend:
    """Import ``name`` and report its version (and, for ONNX Runtime, its providers)."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        return Backend(name, description, None, "not installed")
    except Exception as exc:  # a broken install: say how it broke
        return Backend(name, description, None, f"import failed: {type(exc).__name__}: {exc}")
    version = str(getattr(module, "__version__", "unknown version"))
    note = ""
    if name == "onnxruntime" and hasattr(module, "get_available_providers"):
        note = "providers " + ", ".join(module.get_available_providers())
    return Backend(name, description, version, note)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, dict[str, bool]]:
    """(CPU model name, flag -> present) from /proc/cpuinfo (empty where it is missing)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return platform.processor() or "unknown CPU", {}
    model, flags = "unknown CPU", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, {flag: flag in flags for flag in CPU_FLAGS}


def torch_report() -> tuple[list[str], bool]:
    """Lines about torch's CPU kernels and CUDA, and whether CUDA can be used."""
    try:
        import torch
    except Exception as exc:
        return [f"torch: cannot be imported ({type(exc).__name__}: {exc})"], False
    lines = [
        f"torch CPU kernels: {torch.backends.cpu.get_cpu_capability()}, "
        f"{torch.get_num_threads()} threads ({os.cpu_count()} cores)"
    ]
    if not torch.cuda.is_available():
        why = (
            f"no GPU or driver found; this torch is built for CUDA {torch.version.cuda}"
            if torch.version.cuda
            else "this torch is a CPU-only build"
        )
        lines.append(f"CUDA: not available ({why})")
        return lines, False
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    lines.append(
        f"CUDA {torch.version.cuda}: {', '.join(f'cuda:{i} {n}' for i, n in enumerate(names))}"
    )
    return lines, True


def precision_lines() -> list[str]:
    """What ``precision: auto`` and int8 would do here: the int8 and bf16 flags, and the timing
    decisions cached on this machine (timings and choice), without timing anything now."""
    from pymafx_ros.backends.auto_precision import DecisionCache
    from pymafx_ros.backends.cpu_features import detect_cpu_features

    cpu = detect_cpu_features()
    int8 = cpu.int8_flag() or "no: no int8 dot products (VNNI / AMX-INT8)"
    lines = [
        f"precision int8 (openvino): {int8}; bf16: {'yes' if cpu.native_bf16 else 'no'}",
    ]
    decisions = DecisionCache().decisions()
    if not decisions:
        lines.append(
            "precision auto: no timing cached yet (the node times fp32/bf16/int8 once on its "
            "first start with precision auto when int8 may win)"
        )
    lines += [f"precision auto (cached): {decision.describe()}" for decision in decisions]
    return lines


def _file_lines(data: str | None, checkpoint: str | None, reports: list[FileReport]) -> list[str]:
    lines = ["Model files"]
    if not data:
        lines.append(
            "  (no --data: the bundled PLACEHOLDER assets would be used, poses meaningless)"
        )
    if not checkpoint:
        lines.append(
            "  (no --checkpoint: seeded PLACEHOLDER weights would be used, poses meaningless)"
        )
    for report in reports:
        lines.extend(f"  {line}" for line in report.describe().splitlines())
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the report; 0 when the node would start, else 2."""
    reports = check_model_files(args.data, args.checkpoint)
    lines = _file_lines(args.data, args.checkpoint, reports)
    backends = [probe_backend(name, text) for name, text in BACKENDS.items()]
    model, flags = cpu_flags()
    torch_lines, has_cuda = torch_report()
    lines += ["", "This machine", f"  Python {platform.python_version()} on {platform.machine()}"]
    lines += ["  back ends:", *(f"    {b.describe()}" for b in backends)]
    features = ", ".join(f"{flag} {'yes' if on else 'no'}" for flag, on in flags.items())
    lines.append(f"  CPU: {model}" + (f"; {features}" if features else ""))
    lines += [f"  {line}" for line in torch_lines]
    lines += [f"  {line}" for line in precision_lines()]

    problems = [f"{r.path}: {r.problem}" for r in reports if not r.ok]
    if not any(b.name == "torch" and b.version for b in backends):
        problems.append("torch cannot be imported (the node's default back end)")
    if args.device.startswith("cuda") and not has_cuda:
        problems.append(f"device '{args.device}' was asked for but CUDA is not available")
    lines.append("")
    if problems:
        lines.append(f"The node would NOT start ({len(problems)} problem(s)):")
        lines += [f"  - {p.splitlines()[0]}" for p in problems]
    else:
        lines.append("The node would start with these files on this machine.")
    print("\n".join(lines))
    return 2 if problems else 0


def add_parser(subparsers: Any) -> None:
    """Register ``check`` on the ``pymafx-ros`` command."""
    parser = subparsers.add_parser(
        "check",
        help="validate the model files and report what this machine can run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", help="PyMAF-X data/ directory (the node's data_dir)")
    parser.add_argument("--checkpoint", help="PyMAF-X v1.1 checkpoint (the node's checkpoint)")
    parser.add_argument(
        "--device", default="auto", help="torch device the node would use (auto, cpu, cuda:N)"
    )
    parser.set_defaults(run=run)
