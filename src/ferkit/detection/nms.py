"""Non-maximum suppression on (N, 4) [x1, y1, x2, y2] boxes."""

from __future__ import annotations

import numpy as np


def box_area(b):
    """Areas of (N, 4) boxes (a NumPy array or a torch tensor); an inverted box has area 0."""
    return (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)


def mirror_boxes(b: np.ndarray, width: float) -> np.ndarray:
    """(N, 4) boxes of an image ``width`` wide, on its mirror image (left and right swapped)."""
    return np.stack([width - b[:, 2], b[:, 1], width - b[:, 0], b[:, 3]], 1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between (N, 4) and (M, 4) boxes."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / np.maximum(box_area(a)[:, None] + box_area(b)[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Indices of the boxes kept, best score first. ``mode='min'`` divides the overlap by the smaller area
    (removes a small box inside a big one, as duplicate detections across scales often are)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = box_area(boxes)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter
        order = rest[inter / np.maximum(denom, 1e-9) <= threshold]
    return np.array(keep, np.int64)


def fuse_views(
    boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, n_views: int, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted box fusion of the detections of ``n_views`` runs over one image (test-time augmentation): boxes
    overlapping a cluster's best by IoU > ``threshold`` join it; a cluster's box and landmarks are the
    score-weighted mean of its members', its score their mean times the share of the views that found it (at most
    one member per view counts), so a face every view sees outranks one seen once."""
    if len(boxes) == 0:
        return boxes, scores, points
    order = np.argsort(-scores, kind="stable")
    boxes, scores, points = boxes[order], scores[order], points[order]
    free = np.ones(len(boxes), bool)
    fused = []
    for i in range(len(boxes)):
        if not free[i]:
            continue
        members = np.nonzero(free & (box_iou(boxes[i : i + 1], boxes)[0] > threshold))[0][:n_views]
        free[members] = False
        w = scores[members]
        fused.append(
            (
                (boxes[members] * w[:, None]).sum(0) / w.sum(),
                w.mean() * len(members) / n_views,
                (points[members] * w[:, None, None]).sum(0) / w.sum(),
            )
        )
    b, s, p = zip(*fused)
    return np.array(b, np.float32), np.array(s, np.float32), np.array(p, np.float32)
