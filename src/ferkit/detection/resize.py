"""Run a detector on a resized copy of the image and map its boxes back."""

from __future__ import annotations

import cv2
import numpy as np


def fit_side(image: np.ndarray, side: int | None) -> tuple[np.ndarray, float]:
    """``image`` resized so that its longer side is ``side`` (``None``: unchanged) and the scale applied."""
    if not side:
        return image, 1.0
    h, w = image.shape[:2]
    s = side / max(h, w)
    if abs(s - 1.0) < 1e-3:
        return image, 1.0
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp), s


def as_bgr(image: np.ndarray) -> np.ndarray:
    """A 3-channel BGR view of a BGR or grey image."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
