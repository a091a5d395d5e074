"""The face record a detector returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Detection:
    """A face box [x1, y1, x2, y2] in pixels, a confidence score, and landmarks (K, 2) where the backend has them.
    Landmark convention (alignment relies on it): rows 0 and 1 are the eye centres, the one on the image's left
    first; then the nose tip and, where given, the mouth corners (image-left first) or other points."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None
