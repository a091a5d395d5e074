"""Detection records and the detector interface."""
from __future__ import annotations

from abc import ABC, abstractmethod
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


class Detector(ABC):
    """A face detector: ``detect(image_bgr)`` returns the faces of one image. ``score_scale``: what its scores are
    (``probability``, ``svm_margin``, ...), for the ranking floor of ``detect-eval`` (config
    ``DETECTION_RANKING_FLOOR``); ``None`` for a backend without a score threshold (``min_score``) to lower."""

    name: str = "detector"
    score_scale: str | None = None

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in a BGR uint8 image (grey images are accepted too)."""
