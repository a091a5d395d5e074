"""Mask detection measured on real photos: the annotated faces of the Kaggle "Face Mask Detection" set (VOC boxes;
class names in English or, in the shared copy, Spanish)."""
from __future__ import annotations

import os

import numpy as np

from ..config import CROP_SCALE, DEFAULT_DETECTOR, MASK_DEV_PHOTOS, MASK_THRESHOLD_GRID
from ..data.voc import load_voc
from ..detection.base import Detection
from ..errors import FerkitError
from ..expression.preprocess import crop_faces
from .detector import MaskClassifier

#: Annotation class -> with_mask | without_mask | incorrect.
MASK_ANNOTATIONS = {"with_mask": "with_mask", "con_mascarilla": "with_mask",
                    "without_mask": "without_mask", "sin_mascarilla": "without_mask",
                    "mask_weared_incorrect": "incorrect", "mascarilla_mal_puesta": "incorrect"}
#: Face-size buckets (box side, px) for the breakdown.
SIZE_BUCKETS = ((0, 24), (24, 48), (48, 100000))


def annotated_crops(data: str | os.PathLike, crop_scale: float = CROP_SCALE[DEFAULT_DETECTOR]
                    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """48x48 grey crops of every annotated face (framed like the default detector's crops), their classes
    (with_mask / without_mask / incorrect), box sides and photo indices (archive order)."""
    crops, truth, sides, photo = [], [], [], []
    for n, item in enumerate(load_voc(data)):
        keep = [i for i, lab in enumerate(item.labels) if lab in MASK_ANNOTATIONS]
        dets = [Detection(item.boxes[i], 1.0) for i in keep]
        crops.append(crop_faces(item.image, dets, crop_scale, align=False))
        truth += [MASK_ANNOTATIONS[item.labels[i]] for i in keep]
        sides += [float(max(item.boxes[i][2] - item.boxes[i][0], item.boxes[i][3] - item.boxes[i][1])) for i in keep]
        photo += [n] * len(keep)
    return np.concatenate(crops), truth, np.array(sides), np.array(photo)


def mask_detection_report(clf: MaskClassifier, data: str | os.PathLike) -> dict:
    """Accuracy on the with / without mask faces (headline), the confusion counts, a face-size breakdown, and
    how often faces wearing a mask incorrectly are called masked; and accuracy on the photos used while designing
    the detector's training data (the first ``MASK_DEV_PHOTOS``) apart from the others."""
    crops, truth, sides, photo = annotated_crops(data)
    called = clf.is_masked(crops)
    truth_a = np.array(truth)
    two = truth_a != "incorrect"
    y = truth_a[two] == "with_mask"
    pred = called[two]
    by_size = {}
    for lo, hi in SIZE_BUCKETS:
        sel = (sides[two] >= lo) & (sides[two] < hi)
        if sel.any():
            by_size[f"{lo}-{hi if hi < 100000 else 'up'} px"] = {"faces": int(sel.sum()),
                                                                   "accuracy": float((pred[sel] == y[sel]).mean())}
    dev = photo[two] < MASK_DEV_PHOTOS
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


def choose_threshold(clf: MaskClassifier, data: str | os.PathLike,
                     grid: tuple[float, ...] = MASK_THRESHOLD_GRID) -> tuple[float, dict[str, float]]:
    """The threshold on P(mask) with the best with / without-mask accuracy on the design photos (the first
    ``MASK_DEV_PHOTOS``; the highest on a tie), and the accuracy at each threshold of ``grid``."""
    crops, truth, _, photo = annotated_crops(data)
    truth_a = np.array(truth)
    sel = (truth_a != "incorrect") & (photo < MASK_DEV_PHOTOS)
    if not sel.any():
        raise FerkitError(f"{data}: no with / without-mask faces in its first {MASK_DEV_PHOTOS} photos")
    p, y = clf.mask_probability(crops[sel]), truth_a[sel] == "with_mask"
    table = {f"{t:g}": float(((p >= t) == y).mean()) for t in grid}
    best = max(grid, key=lambda t: (table[f"{t:g}"], t))
    return best, table
