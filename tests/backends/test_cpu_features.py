"""CPU features come from what the machine reports, never from assumptions."""

from __future__ import annotations

from pathlib import Path

from pymafx_ros.backends.cpu_features import detect_cpu_features, parse_cpuinfo

AMD_AVX512_BF16 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse avx2 fma avx512f avx512_vnni avx512_bf16 avx512vl
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu
"""
INTEL_AMX = """model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx2 fma avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
"""
NO_BF16 = """model name\t: AMD EPYC 7B13
flags\t\t: avx2 fma
"""


def test_avx512_bf16_without_amx_is_native_bf16():
    cpu = parse_cpuinfo(AMD_AVX512_BF16)
    assert cpu.model == "AMD EPYC"
    assert cpu.native_bf16 and cpu.avx512_bf16 and not cpu.amx_bf16
    assert cpu.reported_flags() == ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]
    assert cpu.describe() == "AMD EPYC [avx2 fma avx512f avx512_vnni avx512_bf16]"


def test_amx_and_plain_avx2_machines():
    amx = parse_cpuinfo(INTEL_AMX)
    assert amx.amx_bf16 and amx.native_bf16
    plain = parse_cpuinfo(NO_BF16)
    assert not plain.native_bf16 and not plain.amx_bf16
    assert "avx512" not in plain.describe()


def test_this_machine_is_read_from_proc_cpuinfo(tmp_path: Path):
    cpu = detect_cpu_features()
    assert cpu.model
    proc = Path("/proc/cpuinfo")
    if proc.exists():
        assert cpu == parse_cpuinfo(proc.read_text())
    fake = tmp_path / "cpuinfo"
    fake.write_text(INTEL_AMX)
    assert detect_cpu_features(fake).amx_bf16
