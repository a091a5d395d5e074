"""Classification metrics: accuracy, per-class precision / recall / F1, confusion matrix."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) counts, rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Accuracy, macro F1 and per-class precision / recall / F1 / support, plus the confusion matrix."""
    cm = confusion_matrix(y_true, y_pred, len(classes))
    tp = np.diag(cm).astype(float)
    support = cm.sum(1)
    predicted = cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    per_class = {
        c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
        for c, p, r, f, s in zip(classes, precision, recall, f1, support)
    }
    present = support > 0
    return {
        "n": int(cm.sum()),
        "accuracy": round(float(tp.sum() / max(cm.sum(), 1)), 5),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "per_class": per_class,
        "classes": list(classes),
        "confusion_matrix": cm.tolist(),
    }
