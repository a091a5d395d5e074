"""ONNX Runtime sessions with ferkit's settings."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ferkit.errors import FerkitError


@lru_cache(maxsize=32)
def ort_session(path: str | Path, threads: int = 0):
    """A cached CPU InferenceSession for ``path`` (``threads`` 0 = all cores)."""
    import onnxruntime as ort

    path = Path(path)
    if not path.exists():
        raise FerkitError(f"{path}: model weights missing (reinstall ferkit or re-export the model)")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise FerkitError(f"{path}: cannot load model ({e})") from e
