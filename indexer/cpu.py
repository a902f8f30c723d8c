"""What the CPU is good at, read once from the operating system (no torch): the facts that decide precision,
threads and int8 per model path (see `models/loading.py`) and that `glimpse doctor` and the benchmarks print.

Classes, fastest matrix arithmetic first:
- `amx`: Intel AMX tiles (Sapphire Rapids and later): bf16 and int8 matrix products many times fp32's;
- `avx512-bf16`: AVX-512 with BF16 dot products (Cooper Lake, Zen 4 and later): bf16 about twice fp32;
- `avx512-vnni`: AVX-512 with int8 dot products (Cascade Lake, Ice Lake): int8 fast, bf16 emulated (slow);
- `avx2`: AVX2 and FMA only (most laptops and home servers: Ryzen up to Zen 3, Intel client chips): fp32; int8
  through AVX2 (or AVX-VNNI where present) helps only where weights dominate;
- `arm`: aarch64 (NEON, with bf16/i8mm dot products where listed);
- `baseline`: anything else (no AVX2): fp32.

`GLIMPSE_CPU=<class>` makes `cpu()` report that class (with a typical flag set) instead of the real one, so the
choices of another CPU class can be tried here. It changes glimpse's choices only; to make torch run that class's
kernels too, set its own variables as well (benchmarks/describe.py shows the AVX2 line).
"""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CpuInfo:
    model: str
    arch: str
    cores: int  # CPUs this process may run on
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def kind(self) -> str:
        f = self.flags
        if self.arch in ("aarch64", "arm64"):
            return "arm"
        if "amx_bf16" in f:
            return "amx"
        if "avx512_bf16" in f:
            return "avx512-bf16"
        if "avx512_vnni" in f:
            return "avx512-vnni"
        if "avx2" in f and "fma" in f:
            return "avx2"
        return "baseline"

    @property
    def fast_bf16(self) -> bool:
        """bf16 matrix products clearly faster than fp32 (AMX, AVX-512 BF16). ARM's bf16 dot products are left out
        until measured there."""
        return self.kind in ("amx", "avx512-bf16")

    @property
    def fast_int8(self) -> bool:
        """int8 dot-product instructions (AMX-INT8, AVX-512 VNNI, AVX-VNNI, ARM's i8mm/dotprod)."""
        f = self.flags
        return bool({"amx_int8", "avx512_vnni", "avx_vnni", "i8mm", "asimddp"} & f)

    def describe(self) -> str:
        """One line: the model, the class and what it is good at."""
        good = {
            "amx": "AMX tiles: bf16 and int8 matrix products far faster than fp32",
            "avx512-bf16": "AVX-512 BF16: bf16 about twice fp32",
            "avx512-vnni": "AVX-512 VNNI: int8 fast, bf16 emulated",
            "avx2": "AVX2 + FMA only: fp32; no fast bf16" + (", AVX-VNNI int8" if "avx_vnni" in self.flags else ""),
            "arm": "ARM NEON" + (", bf16" if "bf16" in self.flags else "") + (", i8mm" if "i8mm" in self.flags else ""),
            "baseline": "no AVX2: fp32 only, slow",
        }[self.kind]
        return f"{self.model} ({self.arch}, {self.cores} cores): {self.kind}: {good}"


def _cpuinfo() -> tuple[str, frozenset[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "Hardware") and model in ("", platform.machine()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, frozenset(flags)


OVERRIDE_ENV = "GLIMPSE_CPU"
# a typical flag set per class, for GLIMPSE_CPU
CLASS_FLAGS = {
    "amx": "avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 amx_tile",
    "avx512-bf16": "avx2 fma avx512f avx512_vnni avx512_bf16",
    "avx512-vnni": "avx2 fma avx512f avx512_vnni",
    "avx2": "avx2 fma",
    "arm": "fp asimd asimddp",
    "baseline": "sse4_2",
}


@functools.cache
def cpu() -> CpuInfo:
    model, flags = _cpuinfo()
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    arch = platform.machine().lower()
    kind = os.environ.get(OVERRIDE_ENV, "").strip().lower()
    if kind in CLASS_FLAGS:
        model, flags = (
            f"{model or 'unknown CPU'}, seen as {kind} ({OVERRIDE_ENV})",
            frozenset(CLASS_FLAGS[kind].split()),
        )
        arch = "aarch64" if kind == "arm" else "x86_64"
    return CpuInfo(model=model or "unknown CPU", arch=arch, cores=cores, flags=flags)
