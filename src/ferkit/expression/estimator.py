"""A fitted scikit-learn model (``.joblib``) behind the classifier interface (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .registry import model_file_name


class EstimatorClassifier:
    """A saved scikit-learn estimator with the ``predict_proba`` / ``classes`` / ``name`` of the classifiers."""

    def __init__(self, path: str | Path, classes: tuple[str, ...]):
        import joblib

        self.estimator = joblib.load(path)
        self.name, self.classes = model_file_name(path), tuple(classes)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        proba = np.zeros((len(faces), len(self.classes)), np.float32)
        proba[:, self.estimator.classes_] = self.estimator.predict_proba(faces)
        return proba
