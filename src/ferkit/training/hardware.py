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
