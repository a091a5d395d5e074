"""Test-time augmentation: a classifier's probabilities averaged over N fixed views of each face (paper 003 uses
10: the face and its mirror, each unshifted and shifted diagonally by ``TTA_SHIFT`` px in four directions)."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.config import TTA_SHIFT

#: The views, in order (``views=N`` takes the first N; 2 = the face and its mirror): (mirror, dx, dy).
TTA_VIEWS: tuple[tuple[bool, int, int], ...] = tuple(
    (flip, dx * TTA_SHIFT, dy * TTA_SHIFT)
    for dx, dy in ((0, 0), (1, 1), (-1, -1), (1, -1), (-1, 1))
    for flip in (False, True)
)

#: The most views a classifier can average over.
TTA_MAX_VIEWS = len(TTA_VIEWS)


def tta_views(faces: np.ndarray, views: int) -> np.ndarray:
    """(views, N, S, S) uint8: each face in the first ``views`` views (edges replicated after a shift)."""
    if not 1 <= views <= len(TTA_VIEWS):
        raise ValueError(f"views must be 1..{len(TTA_VIEWS)}, got {views}")
    out = np.empty((views, *faces.shape), np.uint8)
    for v, (flip, dx, dy) in enumerate(TTA_VIEWS[:views]):
        src = faces[:, :, ::-1] if flip else faces
        if dx == dy == 0:
            out[v] = src
            continue
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        for i, f in enumerate(src):
            out[v, i] = cv2.warpAffine(np.ascontiguousarray(f), m, f.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    return out


class TTAClassifier:
    """Wraps any classifier with ``predict_proba``: the mean of its probabilities over ``views`` views."""

    def __init__(self, clf, views: int = 10):
        self.clf, self.views = clf, views
        self.classes, self.name = clf.classes, f"{clf.name}+tta{views}"
        self.precision = getattr(clf, "precision", None)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0 or self.views == 1:
            return self.clf.predict_proba(faces)
        v = tta_views(faces, self.views)
        p = self.clf.predict_proba(v.reshape(-1, *faces.shape[1:]))
        return p.reshape(self.views, len(faces), -1).mean(0)

    def predict(self, faces: np.ndarray) -> np.ndarray:
        return self.predict_proba(faces).argmax(1)
