"""Detection metrics: VOC-style average precision at an IoU threshold (all-point interpolation)."""

from __future__ import annotations

import numpy as np

from .nms import box_iou


def match_detections(
    gt: list[np.ndarray],
    dets: list[np.ndarray],
    scores: list[np.ndarray],
    iou: float = 0.5,
    ignore: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Greedy VOC matching per image, highest score first. Returns (scores, is_true_positive, n_ground_truth)
    over all detections of all images. ``ignore``: per image, boxes not scored (VOC's difficult ones): a detection
    whose best overlap is one of them, at ``iou`` or more, is left out, neither true nor false, and they are not
    counted in n_ground_truth."""
    all_scores, all_tp = [], []
    for n, (g, d, s) in enumerate(zip(gt, dets, scores)):
        extra = np.zeros((0, 4)) if ignore is None else np.asarray(ignore[n], float).reshape(-1, 4)
        allg = np.concatenate([np.asarray(g, float).reshape(-1, 4), extra])
        order = np.argsort(-s, kind="stable")
        d, s = d[order], s[order]
        used = np.zeros(len(g), bool)
        ious = box_iou(d, allg) if len(d) and len(allg) else np.zeros((len(d), len(allg)))
        for i in range(len(d)):
            j = int(np.argmax(ious[i])) if len(allg) else -1
            hit = j >= 0 and ious[i, j] >= iou
            if hit and j >= len(g):
                continue  # on a box that is not scored
            ok = hit and not used[j]
            if ok:
                used[j] = True
            all_tp.append(ok)
            all_scores.append(s[i])
    return np.array(all_scores, float), np.array(all_tp, bool), int(sum(len(g) for g in gt))


def precision_recall(scores: np.ndarray, tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    tp = tp[order].astype(float)
    ctp, cfp = np.cumsum(tp), np.cumsum(1 - tp)
    return ctp / np.maximum(ctp + cfp, 1e-12), ctp / max(n_gt, 1)


def average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the precision envelope (VOC 2010+ all-point interpolation)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    idx = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[idx + 1] - r[idx]) * p[idx + 1]))


def recall_at_fppi(scores: np.ndarray, tp: np.ndarray, n_gt: int, n_images: int, fppi: float = 1.0) -> float:
    """Recall reached while false positives per image stay <= ``fppi``."""
    order = np.argsort(-scores, kind="stable")
    tp = tp[order]
    fp = np.cumsum(~tp) / max(n_images, 1)
    ok = fp <= fppi
    return float(np.cumsum(tp)[ok][-1] / max(n_gt, 1)) if ok.any() else 0.0
