"""What the CPU can do, detected at run time (machines of one kind differ: AMX on some, only
AVX512-BF16 on others, neither on AMD Zen 3 or most laptops): the inputs of the ``auto`` rule,
printed next to every benchmark figure and reported in the node's diagnostics."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

# The flags that matter for inference speed, in the order they are reported.
REPORTED_FLAGS = (
    "avx2", "fma", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
    "amx_tile", "amx_bf16", "amx_int8",
)  # fmt: skip


@dataclass(frozen=True)
class CpuFeatures:
    """CPU model name and instruction-set flags (Linux names, e.g. ``avx512_bf16``)."""

    model: str
    flags: frozenset[str]

    @property
    def amx_bf16(self) -> bool:
        return {"amx_tile", "amx_bf16"} <= self.flags

    @property
    def avx512_bf16(self) -> bool:
        return "avx512_bf16" in self.flags

    @property
    def native_bf16(self) -> bool:
        """bf16 matrix arithmetic in hardware (AMX or AVX512-BF16): bf16 is faster than fp32.
        Without it, runtimes emulate bf16 and are slower than fp32."""
        return self.amx_bf16 or self.avx512_bf16

    @property
    def native_int8(self) -> bool:
        """int8 dot products in hardware (AVX512-VNNI, AVX-VNNI or AMX-INT8): int8 encoders are
        faster than fp32. Without them OpenVINO's int8 kernels gain little or lose."""
        return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & self.flags)

    def int8_flag(self) -> str:
        """The strongest int8 instruction set present ('' when none), for logs."""
        for flag, name in (("amx_int8", "AMX-INT8"), ("avx512_vnni", "AVX512-VNNI")):
            if flag in self.flags:
                return name
        return "AVX-VNNI" if "avx_vnni" in self.flags else ""

    def reported_flags(self) -> list[str]:
        return [flag for flag in REPORTED_FLAGS if flag in self.flags]

    def describe(self) -> str:
        """One line: model and the flags that matter, e.g. for logs and diagnostics."""
        flags = " ".join(self.reported_flags()) or "none of " + " ".join(REPORTED_FLAGS)
        return f"{self.model} [{flags}]"


def parse_cpuinfo(text: str) -> CpuFeatures:
    """CpuFeatures from the text of Linux ``/proc/cpuinfo`` (first processor entry)."""
    model = ""
    flags: frozenset[str] = frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
    return CpuFeatures(model or platform.processor() or platform.machine(), flags)


def detect_cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuFeatures:
    """The running CPU's features; without ``/proc/cpuinfo`` (not Linux) the flags come from
    OpenVINO when it is installed (its BF16 capability means native bf16, INT8 int8 dot
    products), else none."""
    try:
        return parse_cpuinfo(cpuinfo.read_text(errors="replace"))
    except OSError:
        pass
    flags: set[str] = set()
    try:
        import openvino

        capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if "BF16" in capabilities:
            flags.add("avx512_bf16")
        if "INT8" in capabilities:  # OpenVINO reports INT8 for VNNI-class CPUs
            flags.add("avx512_vnni")
    except Exception:
        pass
    return CpuFeatures(platform.processor() or platform.machine(), frozenset(flags))
