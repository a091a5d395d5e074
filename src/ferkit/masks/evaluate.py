"""Mask detection measured on real photos: the annotated faces of the Kaggle "Face Mask Detection" set (VOC boxes;
class names in English or, in the shared copy, Spanish)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..config import MASK_DEV_PHOTOS, MASK_PHOTO_FRAMING, MASK_THRESHOLD_GRID
from ..data.voc import load_voc
from ..detection.base import Detection
from ..errors import FerkitError
from ..expression.preprocess import Framing, crop_faces
from .detector import MaskClassifier

#: Annotation class -> with_mask | without_mask | incorrect.
MASK_ANNOTATIONS = {"with_mask": "with_mask", "con_mascarilla": "with_mask",
                    "without_mask": "without_mask", "sin_mascarilla": "without_mask",
                    "mask_weared_incorrect": "incorrect", "mascarilla_mal_puesta": "incorrect"}
#: Face-size buckets (box side, px) for the breakdown.
SIZE_BUCKETS = ((0, 24), (24, 48), (48, 100000))


@dataclass
class AnnotatedFaces:
    """The annotated faces of a set of photos: 48x48 grey crops (framed by ``MASK_PHOTO_FRAMING``), their
    classes (with_mask / without_mask / incorrect), box sides (px) and photo indices (archive order)."""

    crops: np.ndarray
    truth: np.ndarray
    sides: np.ndarray
    photo: np.ndarray

    @property
    def two_classes(self) -> np.ndarray:
        """The with / without-mask faces (those the headline accuracy counts)."""
        return self.truth != "incorrect"

    @property
    def design(self) -> np.ndarray:
        """Faces of the photos used while designing the detector (the first ``MASK_DEV_PHOTOS``)."""
        return self.photo < MASK_DEV_PHOTOS


def annotated_crops(data: str | os.PathLike, framing: Framing = Framing.of(MASK_PHOTO_FRAMING)) -> AnnotatedFaces:
    """Every annotated face of the VOC photos in ``data``."""
    crops, truth, sides, photo = [], [], [], []
    for n, item in enumerate(load_voc(data)):
        keep = [i for i, lab in enumerate(item.labels) if lab in MASK_ANNOTATIONS]
        dets = [Detection(item.boxes[i], 1.0) for i in keep]
        crops.append(crop_faces(item.image, dets, framing, align=False))
        truth += [MASK_ANNOTATIONS[item.labels[i]] for i in keep]
        sides += [float(max(item.boxes[i][2] - item.boxes[i][0], item.boxes[i][3] - item.boxes[i][1])) for i in keep]
        photo += [n] * len(keep)
    return AnnotatedFaces(np.concatenate(crops), np.array(truth), np.array(sides), np.array(photo))


def _faces(data: str | os.PathLike | AnnotatedFaces) -> AnnotatedFaces:
    return data if isinstance(data, AnnotatedFaces) else annotated_crops(data)


def mask_detection_report(clf: MaskClassifier, data: str | os.PathLike | AnnotatedFaces) -> dict:
    """Accuracy on the with / without mask faces (headline), the confusion counts, a face-size breakdown, and
    how often faces wearing a mask incorrectly are called masked; and accuracy on the photos used while designing
    the detector's training data (the first ``MASK_DEV_PHOTOS``) apart from the others. ``data``: VOC photos, or
    their faces from ``annotated_crops``."""
    faces = _faces(data)
    crops, truth_a, sides, photo = faces.crops, faces.truth, faces.sides, faces.photo
    called = clf.is_masked(crops)
    two = faces.two_classes
    y = truth_a[two] == "with_mask"
    pred = called[two]
    by_size = {}
    for lo, hi in SIZE_BUCKETS:
        sel = (sides[two] >= lo) & (sides[two] < hi)
        if sel.any():
            by_size[f"{lo}-{hi if hi < 100000 else 'up'} px"] = {"faces": int(sel.sum()),
                                                                   "accuracy": float((pred[sel] == y[sel]).mean())}
    dev = faces.design[two]
    by_part = {name: {"photos": int(len(np.unique(photo[two][sel]))), "faces": int(sel.sum()),
                      "accuracy": float((pred[sel] == y[sel]).mean())}
               for name, sel in (("design", dev), ("held_out", ~dev)) if sel.any()}
    inc = truth_a == "incorrect"
    return {
        "faces": int(two.sum()), "with_mask": int(y.sum()), "without_mask": int((~y).sum()),
        "accuracy": float((pred == y).mean()),
        "mask_recall": float(pred[y].mean()) if y.any() else None,
        "no_mask_recall": float((~pred[~y]).mean()) if (~y).any() else None,
        "confusion": {"with_mask_called_mask": int(pred[y].sum()), "with_mask_called_no_mask": int((~pred[y]).sum()),
                      "without_mask_called_mask": int(pred[~y].sum()),
                      "without_mask_called_no_mask": int((~pred[~y]).sum())},
        "by_face_size": by_size, "by_part": by_part,
        "incorrect_faces": int(inc.sum()), "incorrect_called_mask": float(called[inc].mean()) if inc.any() else None,
        "threshold": clf.threshold,
    }


def choose_threshold(clf: MaskClassifier, data: str | os.PathLike | AnnotatedFaces,
                     grid: tuple[float, ...] = MASK_THRESHOLD_GRID) -> tuple[float, dict[str, float]]:
    """The threshold on P(mask) with the best with / without-mask accuracy on the design photos (the first
    ``MASK_DEV_PHOTOS``; the highest on a tie), and the accuracy at each threshold of ``grid``."""
    faces = _faces(data)
    sel = faces.two_classes & faces.design
    if not sel.any():
        raise FerkitError(f"{data}: no with / without-mask faces in its first {MASK_DEV_PHOTOS} photos")
    p, y = clf.mask_probability(faces.crops[sel]), faces.truth[sel] == "with_mask"
    table = {f"{t:g}": float(((p >= t) == y).mean()) for t in grid}
    best = max(grid, key=lambda t: (table[f"{t:g}"], t))
    return best, table
