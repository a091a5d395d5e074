"""Mask detection measured on real photos: the annotated faces of the Kaggle "Face Mask Detection" set (VOC boxes;
class names in English or, in the shared copy, Spanish)."""

from __future__ import annotations

import os

import numpy as np

from ferkit.config import MASK_DEV_PHOTOS, MASK_THRESHOLD_GRID
from ferkit.data.masked import AnnotatedFaces, annotated_faces
from ferkit.errors import FerkitError

from .detector import MaskClassifier, MaskDetector

#: Face-size buckets (box side, px) for the breakdown.
SIZE_BUCKETS = ((0, 24), (24, 48), (48, 100000))


def _faces(data: str | os.PathLike | AnnotatedFaces) -> AnnotatedFaces:
    return data if isinstance(data, AnnotatedFaces) else annotated_faces(data)


def mask_detection_report(clf: MaskClassifier | MaskDetector, data: str | os.PathLike | AnnotatedFaces) -> dict:
    """Accuracy on the with / without mask faces (headline), the confusion counts, a face-size breakdown, and
    how often faces wearing a mask incorrectly are called masked. Faces of photos the classifier was trained or
    tuned on (its card's ``trained_on`` / ``validated_on``) are left out; accuracy on the photos used while
    designing the grey classifier's training data (the first ``MASK_DEV_PHOTOS``) is given apart from the others.
    ``data``: VOC photos, or their faces from ``annotated_faces``."""
    all_faces = _faces(data)
    faces = all_faces.subset(~np.isin(all_faces.photo_names, list(clf.seen_photos)))
    if not len(faces.truth):
        raise FerkitError(
            f"the mask detector was trained or tuned on every photo of {data}: none left to measure it on"
        )
    truth_a, sides, photo = faces.truth, faces.sides, faces.photo
    called = clf.face_probability(faces) >= clf.threshold
    two = faces.two_classes
    y = truth_a[two] == "with_mask"
    pred = called[two]
    by_size = {}
    for lo, hi in SIZE_BUCKETS:
        sel = (sides[two] >= lo) & (sides[two] < hi)
        if sel.any():
            by_size[f"{lo}-{hi if hi < 100000 else 'up'} px"] = {
                "faces": int(sel.sum()),
                "accuracy": float((pred[sel] == y[sel]).mean()),
            }
    dev = (photo < MASK_DEV_PHOTOS)[two]
    by_part = {
        name: {
            "photos": int(len(np.unique(photo[two][sel]))),
            "faces": int(sel.sum()),
            "accuracy": float((pred[sel] == y[sel]).mean()),
        }
        for name, sel in (("design", dev), ("held_out", ~dev))
        if sel.any()
    }
    inc = truth_a == "incorrect"
    return {
        "photos": int(len(np.unique(photo))),
        "photos_left_out": int(len(np.unique(all_faces.photo)) - len(np.unique(photo))),
        "faces": int(two.sum()),
        "with_mask": int(y.sum()),
        "without_mask": int((~y).sum()),
        "accuracy": float((pred == y).mean()),
        "mask_recall": float(pred[y].mean()) if y.any() else None,
        "no_mask_recall": float((~pred[~y]).mean()) if (~y).any() else None,
        "confusion": {
            "with_mask_called_mask": int(pred[y].sum()),
            "with_mask_called_no_mask": int((~pred[y]).sum()),
            "without_mask_called_mask": int(pred[~y].sum()),
            "without_mask_called_no_mask": int((~pred[~y]).sum()),
        },
        "by_face_size": by_size,
        "by_part": by_part,
        "incorrect_faces": int(inc.sum()),
        "incorrect_called_mask": float(called[inc].mean()) if inc.any() else None,
        "threshold": clf.threshold,
    }


def choose_threshold(
    clf: MaskClassifier | MaskDetector,
    data: str | os.PathLike | AnnotatedFaces,
    photos: set[str] | None = None,
    grid: tuple[float, ...] = MASK_THRESHOLD_GRID,
) -> tuple[float, dict[str, float]]:
    """The threshold on P(mask) with the best with / without-mask accuracy on ``photos`` (names; default the design
    photos, the first ``MASK_DEV_PHOTOS``; the highest threshold on a tie), and the accuracy at each of ``grid``."""
    faces = _faces(data)
    chosen = np.isin(faces.photo_names, list(photos)) if photos is not None else faces.photo < MASK_DEV_PHOTOS
    sel = faces.two_classes & chosen
    if not sel.any():
        raise FerkitError(f"{data}: no with / without-mask faces in the photos to choose a threshold on")
    p, y = clf.face_probability(faces)[sel], faces.truth[sel] == "with_mask"
    table = {f"{t:g}": float(((p >= t) == y).mean()) for t in grid}
    best = max(grid, key=lambda t: (table[f"{t:g}"], t))
    return best, table
