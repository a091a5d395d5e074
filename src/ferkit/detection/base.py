"""The detector interface (the ``Detection`` record lives in ``ferkit.face.detection``)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ferkit.face.detection import Detection


class Detector(ABC):
    """A face detector: ``detect(image_bgr)`` returns the faces of one image. ``score_scale``: what its scores are
    (``probability``, ``svm_margin``, ...), for the ranking floor of ``detect-eval`` (config
    ``DETECTION_RANKING_FLOOR``); ``None`` for a backend without a score threshold (``min_score``) to lower."""

    name: str = "detector"
    score_scale: str | None = None

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in a BGR uint8 image (grey images are accepted too)."""
