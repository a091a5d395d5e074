"""ferkit: facial expression recognition toolkit."""

from __future__ import annotations

import os

# Errors reach the user as one ferkit line; keep FFmpeg's and OpenCV's own chatter off stderr.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

from .config import EMOTIONS
from .errors import FerkitError

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy imports keep `import ferkit` fast and light.
    if name in ("Analyzer", "AnalysisResult", "Face"):
        from ferkit.app import analyzer

        return getattr(analyzer, name)
    if name in ("create_model", "list_models"):
        from .expression import registry

        return getattr(registry, name)
    if name in ("create_detector", "list_detectors"):
        from .detection import registry as dreg

        return getattr(dreg, name)
    raise AttributeError(name)


__all__ = [
    "EMOTIONS",
    "FerkitError",
    "Analyzer",
    "AnalysisResult",
    "Face",
    "create_model",
    "list_models",
    "create_detector",
    "list_detectors",
    "__version__",
]
