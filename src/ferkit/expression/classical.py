"""Classical expression models (papers 002 and 004): KNN, MLP and SVM as scikit-learn pipelines on face features.

Every model is a scikit-learn estimator taking (N, 48, 48) uint8 faces: ``fit / predict / predict_proba``.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ferkit.config import FACE_SIZE


class PixelFeatures(BaseEstimator, TransformerMixin):
    """Flattened grey levels scaled to 0..1 (paper 002's raw-pixel representation)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, np.float32).reshape(len(X), -1) / 255.0


class HistogramFeatures(BaseEstimator, TransformerMixin):
    """Normalised grey-level histogram (paper 002's colour histogram; FER2013 faces are grey)."""

    def __init__(self, bins: int = 256):
        self.bins = bins

    def fit(self, X, y=None):
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X).reshape(len(X), -1)
        h = np.stack([np.bincount(x * self.bins // 256, minlength=self.bins) for x in X.astype(np.int64)])
        return (h / X.shape[1]).astype(np.float32)


class HOGFeatures(BaseEstimator, TransformerMixin):
    """Histograms of oriented gradients (OpenCV): 8x8 cells, 16x16 blocks, stride 8, 9 bins -> 900 values."""

    def __init__(self, cell: int = 8, bins: int = 9):
        self.cell, self.bins = cell, bins

    def fit(self, X, y=None):
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        c = self.cell
        hog = cv2.HOGDescriptor((FACE_SIZE, FACE_SIZE), (2 * c, 2 * c), (c, c), (c, c), self.bins)
        return np.stack([hog.compute(np.ascontiguousarray(x, np.uint8)).ravel() for x in np.asarray(X)])


#: Landmark features of faces already seen (face bytes' hash -> features), at most this many.
LANDMARK_CACHE_SIZE = 200_000
_LANDMARK_CACHE: dict[bytes, np.ndarray] = {}


class LandmarkFeatures(BaseEstimator, TransformerMixin):
    """Face geometry from dlib's 68 landmarks (``[dlib]`` extra): the points centred on their mean and scaled by
    the eye distance (136 values) and each point's distance to the centre (68 values). A face where the predictor
    fails the plausibility check keeps its (implausible) points: the SVM sees them as they are."""

    def fit(self, X, y=None):
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = []
        for x in np.asarray(X):
            key = hashlib.blake2b(np.ascontiguousarray(x, np.uint8).tobytes(), digest_size=16).digest()
            if key not in _LANDMARK_CACHE:  # a grid search or cross-validation sees the same faces many times
                if len(_LANDMARK_CACHE) >= LANDMARK_CACHE_SIZE:
                    _LANDMARK_CACHE.clear()
                _LANDMARK_CACHE[key] = self._geometry(x)
            out.append(_LANDMARK_CACHE[key])
        return np.asarray(out, np.float32)

    @staticmethod
    def _geometry(face: np.ndarray) -> np.ndarray:
        from ferkit.face.landmarks import landmarks68

        p = landmarks68(np.ascontiguousarray(face, np.uint8), (0.0, 0.0, float(face.shape[0]))).points
        p = p - p.mean(0)
        p = p / max(float(np.linalg.norm(p[36:42].mean(0) - p[42:48].mean(0))), 1e-3)
        return np.concatenate([p.ravel(), np.linalg.norm(p, axis=1)]).astype(np.float32)


FEATURES = {"pixels": PixelFeatures, "hist": HistogramFeatures, "hog": HOGFeatures, "landmarks": LandmarkFeatures}


def _features(name: str):
    if name not in FEATURES:
        raise ValueError(f"unknown features {name!r}; known: {', '.join(FEATURES)}")
    return FEATURES[name]()


def knn(features: str = "pixels", k: int = 3, p: int = 1, weights: str = "distance") -> Pipeline:
    """Paper 002's baseline: k=3, L1 norm (p=1), neighbours weighted by inverse distance."""
    return Pipeline(
        [
            ("features", _features(features)),
            ("knn", KNeighborsClassifier(n_neighbors=k, p=p, weights=weights, algorithm="brute", n_jobs=-1)),
        ]
    )


def mlp(
    activation: str = "relu", hidden: tuple[int, ...] = (1024, 1024, 64, 32), epochs: int = 50, seed: int = 0
) -> Pipeline:
    """Paper 002's MLP 1024-1024-64-32-7 (Adam); activation relu, logistic (sigmoid) or tanh."""
    return Pipeline(
        [
            ("features", PixelFeatures()),
            ("scale", StandardScaler()),
            (
                "mlp",
                MLPClassifier(
                    hidden,
                    activation=activation,
                    max_iter=epochs,
                    batch_size=256,
                    early_stopping=False,
                    random_state=seed,
                ),
            ),
        ]
    )


def svm(
    features: str = "hog",
    kernel: str = "rbf",
    C: float = 10.0,
    gamma: str | float = "scale",
    degree: int = 3,
    seed: int = 0,
) -> Pipeline:
    """SVM (papers 002 / 004) on scaled features; linear, poly or rbf kernel; probabilities by sigmoid
    (Platt) calibration on 3-fold cross-validated decision values."""
    svc = SVC(kernel=kernel, C=C, gamma=gamma, degree=degree, cache_size=2000, random_state=seed)
    return Pipeline(
        [
            ("features", _features(features)),
            ("scale", StandardScaler()),
            ("svm", CalibratedClassifierCV(svc, method="sigmoid", cv=3, ensemble=False)),
        ]
    )


def stored_size(pipeline: Pipeline) -> tuple[int, int]:
    """(stored parameters, multiply-accumulates per face after feature extraction) of a fitted pipeline:
    a KNN stores its training faces and compares each face with all of them; an MLP its weights; an SVM its
    support vectors (one kernel evaluation per support vector) and dual coefficients."""
    est = pipeline.steps[-1][1]
    if isinstance(est, KNeighborsClassifier):
        n = est.n_samples_fit_ * est.n_features_in_
        return n, n
    if isinstance(est, MLPClassifier):
        weights = sum(w.size for w in est.coefs_)
        return weights + sum(b.size for b in est.intercepts_), weights
    svc = est.calibrated_classifiers_[0].estimator if isinstance(est, CalibratedClassifierCV) else est
    sv = svc.support_vectors_.size
    return sv + svc.dual_coef_.size + svc.intercept_.size, sv + svc.dual_coef_.size
