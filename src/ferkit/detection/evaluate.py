"""``ferkit detect-eval``: a detector on VOC-annotated photos -> AP50, recall at 1 FP/image, PR curve, speed."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from ferkit.config import DETECTION_RANKING_FLOOR
from ferkit.data.voc import BoxedImage, load_voc
from ferkit.errors import FerkitError
from ferkit.utils.io import atomic_path
from ferkit.utils.reports import write_report

from .base import Detector
from .metrics import average_precision, match_detections, precision_recall, recall_at_fppi
from .registry import create_detector


def evaluate_detector(
    detector: str | Detector,
    data: str | list[BoxedImage],
    json_out: str | None = None,
    classes: tuple[str, ...] | None = None,
    iou: float = 0.5,
    time_budget_s: float | None = None,
    curve_out: list | None = None,
) -> dict:
    """AP at ``iou`` over the images of ``data`` (a VOC folder/archive or loaded images), ranking every detection
    down to the backend's ``DETECTION_RANKING_FLOOR``; precision and recall at its operating threshold. With
    ``time_budget_s``, a slow detector stops after the first images that fit in it (``subset`` says so in the
    report); ``curve_out`` receives the (precision, recall) arrays."""
    det = create_detector(detector) if isinstance(detector, str) else detector
    items = load_voc(data, classes) if isinstance(data, (str, os.PathLike)) else data
    trained_on = getattr(det, "trained_on", set())
    n_all = len(items)
    items = [i for i in items if i.name not in trained_on]  # a trained detector is scored on held-out images only
    if not items:
        raise FerkitError(f"{det.name} was trained on every image of this dataset: nothing held out to score it on")
    operating = getattr(det, "min_score", None)
    with ranking_floor(det) as floor:
        dets, scores, seconds = _detect_all(det, items, time_budget_s)
    used = items[: len(dets)]
    s, tp, n_gt = match_detections([i.boxes for i in used], dets, scores, iou, [i.ignore for i in used])
    p, r = precision_recall(s, tp, n_gt)
    if curve_out is not None:
        curve_out.append((p, r))
    ms = frame_latency_ms(det, items[0].image)
    at_op = s >= operating if operating is not None else np.ones(len(s), bool)
    rep = {
        "detector": det.name,
        "data": str(data) if isinstance(data, (str, os.PathLike)) else "",
        "n_images": len(used),
        "subset": len(used) < len(items),
        "excluded_training_images": n_all - len(items),
        "n_boxes": n_gt,
        "n_ignored_boxes": int(sum(len(i.ignore) for i in used)),
        "n_detections": int(len(s)),
        f"ap{int(iou * 100)}": round(average_precision(p, r), 4),
        "recall_at_1fppi": round(recall_at_fppi(s, tp, n_gt, len(used)), 4),
        "max_recall": round(float(r[-1]) if len(r) else 0.0, 4),
        "ranking_floor": floor,
        "operating_threshold": operating,
        "precision_at_operating": round(float(tp[at_op].mean()) if at_op.any() else 0.0, 4),
        "recall_at_operating": round(float(tp[at_op].sum() / max(n_gt, 1)), 4),
        "ms_per_frame": round(ms, 2),
        "ms_per_image_dataset": round(seconds / max(len(used), 1) * 1000, 2),
    }
    if json_out:
        png = Path(json_out).with_name(Path(json_out).stem + "_pr.png")
        _plot_pr(p, r, png, f"{det.name} on {Path(data).name}: AP{int(iou * 100)} {rep[f'ap{int(iou * 100)}']:.3f}")
        rep["pr_png"] = png.name
        write_report(json_out, rep, f"Detector {det.name} on {Path(data).name}", f"\n![precision-recall]({png.name})\n")
    return rep


@contextmanager
def ranking_floor(det: Detector):
    """Lower ``det``'s score threshold to the ``DETECTION_RANKING_FLOOR`` of its score scale for the duration
    (restored after); yields the threshold it ranks from (``None`` for a backend without one)."""
    operating = getattr(det, "min_score", None)
    floor = DETECTION_RANKING_FLOOR.get(det.score_scale)
    if operating is None or floor is None or floor >= operating:
        yield operating
        return
    det.min_score = floor
    try:
        yield floor
    finally:
        det.min_score = operating


def _detect_all(
    det: Detector, items: list[BoxedImage], time_budget_s: float | None
) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Boxes and scores of every image (the first ones that fit in ``time_budget_s``), and the seconds taken."""
    dets, scores = [], []
    t = time.perf_counter()
    for it in items:
        found = det.detect(it.image)
        dets.append(np.array([f.box for f in found], float).reshape(-1, 4))
        scores.append(np.array([f.score for f in found], float))
        if time_budget_s and time.perf_counter() - t > time_budget_s:
            break
    return dets, scores, time.perf_counter() - t


def frame_latency_ms(det: Detector, image: np.ndarray, budget_s: float = 3.0) -> float:
    """Median milliseconds of ``det`` on ``image`` resized to 640x480 (10 runs, fewer for a slow detector)."""
    frame = cv2.resize(image, (640, 480))
    t = time.perf_counter()
    det.detect(frame)
    first = time.perf_counter() - t
    times = []
    for _ in range(max(1, min(10, int(budget_s / max(first, 1e-4))))):
        t = time.perf_counter()
        det.detect(frame)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def _plot_pr(p: np.ndarray, r: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(r, p, lw=1.5)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
