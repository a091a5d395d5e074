"""Keep freed memory in the process for reuse (glibc ``mallopt``), so that large tensors freed and allocated again
every training step do not go back to the kernel and fault in again, page by page, on the next step."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Allocations up to this size come from the reusable heap instead of their own ``mmap``.
_MMAP_THRESHOLD = 1 << 30
_TRIM_THRESHOLD = 1 << 31


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True where it took effect (glibc on Linux).

    glibc serves blocks above its mmap threshold (at most 32 MiB by default) with their own mapping and unmaps
    them when freed; a training step's largest activations are such blocks, so every step page-faulted hundreds of
    megabytes back in (tens of thousands of faults per ``ferkit_cnn_s`` step; ``tests/unit/test_training_speed.py``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False
