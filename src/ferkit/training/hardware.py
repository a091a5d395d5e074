"""Where a run trained: the device, and whether other jobs shared its CPU (which inflates its training time)."""

from __future__ import annotations

import os
import platform
import threading

import torch

from ferkit.config import SHARED_CPU_LOAD
from ferkit.utils.cpu import cpu_bf16, cpu_vector_isa


class CpuLoad:
    """``with CpuLoad() as load: ...``: samples the 1-minute load average every ``every`` seconds in a background
    thread; ``load.peak`` is the highest value seen (None where the system has no load average)."""

    def __init__(self, every: float = 15.0):
        self.every, self.peak = every, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        try:
            now = os.getloadavg()[0]
        except (AttributeError, OSError):
            return
        self.peak = now if self.peak is None else max(self.peak, now)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> "CpuLoad":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def hardware(peak_load: float | None = None) -> str:
    """The training device in words; on a CPU whose load went above ``SHARED_CPU_LOAD`` x its cores during the
    run, a note that the CPU was shared (the run's time is then longer than it would be alone)."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    cores = os.cpu_count() or 1
    isa = ", ".join(x for x in (cpu_vector_isa(), cpu_bf16()) if x and x != "unknown")
    out = (
        f"CPU {platform.processor() or platform.machine()}{f' ({isa})' if isa else ''}, {cores} cores, "
        f"torch threads {torch.get_num_threads()}"
    )
    if peak_load is not None and peak_load > SHARED_CPU_LOAD * cores:
        out += f"; CPU shared with other jobs (1-min load up to {peak_load:.1f}): time inflated"
    return out


def resolve_precision(precision: str, accelerator: str = "auto") -> str:
    """``auto``: ``bf16-mixed`` where the device computes bfloat16 natively (CUDA GPUs from Ampere on, CPUs with
    AMX or AVX-512 BF16: about 2x the fp32 training step on this project's CPU), else ``32-true``."""
    if precision != "auto":
        return precision
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true"
    return "bf16-mixed" if cpu_bf16() else "32-true"
