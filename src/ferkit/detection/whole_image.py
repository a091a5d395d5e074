"""``--detector none``: the whole image is one face (face crops, research data sets with one face per image)."""

from __future__ import annotations

import numpy as np

from .base import Detection, Detector


class WholeImage(Detector):
    """One detection covering the whole image, score 1; the crop is framed around it as around any box."""

    name = "none"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        return [Detection(np.array([0, 0, w, h], np.float32), 1.0)] if h and w else []
