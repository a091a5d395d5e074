"""Mask detection at run time: ferkit's shipped mask / no-mask classifier on 48x48 grey face crops (ONNX)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..config import CLASSIFY_BATCH, FACE_SIZE, MASK_DETECTOR_DIR, MASK_THRESHOLD
from ..errors import FerkitError
from ..runtime.onnx import ort_session


class MaskClassifier:
    """``mask_probability(faces)``: (N, 48, 48) uint8 grey crops -> (N,) probability that the face wears a mask."""

    def __init__(self, path: str | Path = MASK_DETECTOR_DIR / "model.onnx", threads: int = 0,
                 threshold: float = MASK_THRESHOLD):
        path = Path(path)
        if not path.is_file():
            raise FerkitError(f"{path}: mask detector weights are missing (reinstall ferkit, or train one with "
                              "scripts/run_masked.sh and `ferkit ship --mask-detector`)")
        card = path.parent / "card.json"
        self.card = json.loads(card.read_text()) if card.is_file() else {}
        self.classes = tuple(self.card.get("classes", ("no_mask", "mask")))
        self.session = ort_session(path, threads)
        self.input = self.session.get_inputs()[0].name
        self.threshold = threshold

    def mask_probability(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros(0, np.float32)
        x = faces.reshape(-1, 1, FACE_SIZE, FACE_SIZE).astype(np.float32)
        p = np.concatenate([self.session.run(None, {self.input: x[i:i + CLASSIFY_BATCH]})[0]
                            for i in range(0, len(x), CLASSIFY_BATCH)])
        return p[:, self.classes.index("mask")]

    def is_masked(self, faces: np.ndarray) -> np.ndarray:
        return self.mask_probability(faces) >= self.threshold
