"""What this CPU offers for fast inference and training (Linux ``/proc/cpuinfo`` flags; empty elsewhere)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return frozenset(next((ln.split(":", 1)[1].split() for ln in f if ln.startswith("flags")), []))
    except OSError:
        return frozenset()


def cpu_vector_isa() -> str:
    """The widest x86 SIMD level that matters for int8 inference here: ``avx512_vnni``, ``avx_vnni``, ``avx512``,
    ``avx2`` or ``unknown``. Int8 speed-ups differ a lot between them (VNNI: one instruction per 4 products)."""
    for level in ("avx512_vnni", "avx_vnni", "avx512f", "avx2"):
        if level in cpu_flags():
            return level.replace("avx512f", "avx512")
    return "unknown"


def cpu_bf16() -> str:
    """The CPU's bfloat16 matrix support, which makes ``--train-precision bf16-mixed`` training fast: ``amx_bf16`` (tile
    matrix units), ``avx512_bf16`` (dot-product instructions) or ``""`` (none: bf16 would be emulated, slower)."""
    return next((f for f in ("amx_bf16", "avx512_bf16") if f in cpu_flags()), "")
