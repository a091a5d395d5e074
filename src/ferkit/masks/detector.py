"""Mask detection at run time: ferkit's shipped mask / no-mask classifier on 48x48 grey face crops (ONNX)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import MASK_DETECTOR_DIR, MASK_THRESHOLD
from ..errors import FerkitError
from ..expression.classifier import ExpressionClassifier


class MaskClassifier:
    """``mask_probability(faces)``: (N, 48, 48) uint8 grey crops -> (N,) probability that the face wears a mask;
    ``is_masked`` compares it with ``threshold`` (default: the card's, else ``MASK_THRESHOLD``)."""

    def __init__(self, path: str | Path = MASK_DETECTOR_DIR / "model.onnx", threads: int = 0,
                 threshold: float | None = None):
        path = Path(path)
        if not path.is_file():
            raise FerkitError(f"{path}: mask detector weights are missing (reinstall ferkit, or train one with "
                              "scripts/run_masked.sh and `ferkit ship --mask-detector`)")
        self.clf = ExpressionClassifier(str(path), threads)  # batched ONNX Runtime; classes from its card.json
        self.card, self.classes = self.clf.card, self.clf.classes
        self.threshold = threshold if threshold is not None else float(self.card.get("threshold", MASK_THRESHOLD))

    def mask_probability(self, faces: np.ndarray) -> np.ndarray:
        return self.clf.predict_proba(faces)[:, self.classes.index("mask")]

    def is_masked(self, faces: np.ndarray) -> np.ndarray:
        return self.mask_probability(faces) >= self.threshold
