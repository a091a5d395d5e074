"""The one timer of the benchmarks: the fastest of several timing windows."""

from __future__ import annotations

import time
from typing import Callable


def rate(fn: Callable[[], object], items: int, min_seconds: float, rounds: int = 1) -> float:
    """Items per second of ``fn``: one warm-up call, then ``rounds`` windows of calls lasting at least
    ``min_seconds`` each, the fastest window kept (as ``timeit`` keeps the best repeat: a slower window measures
    the machine's other load, not the code)."""
    fn()
    best = 0.0
    for _ in range(max(1, rounds)):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                best = max(best, items * n / dt)
                break
    return best
