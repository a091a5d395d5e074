"""``ferkit evaluate``: a model on a dataset split -> accuracy, per-class P/R/F1, confusion matrix (JSON + PNG)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ferkit.config import DEFAULT_PRECISION
from ferkit.data import FaceSet, load_dataset
from ferkit.expression.models import load_classifier
from ferkit.utils.reports import write_report

from .metrics import classification_report
from .plots import plot_confusion_matrix


def evaluate_faceset(clf, ds: FaceSet, tta: int = 0) -> tuple[dict, np.ndarray]:
    """Report on ``ds`` and the probabilities; ``tta`` > 1 averages over that many views (expression/tta.py)."""
    if tta and tta > 1:
        from ferkit.expression.tta import TTAClassifier

        clf = TTAClassifier(clf, tta)
    t = time.perf_counter()
    probs = clf.predict_proba(ds.images)
    seconds = time.perf_counter() - t
    rep = classification_report(ds.labels, probs.argmax(1), tuple(clf.classes))
    rep["seconds"] = round(seconds, 3)
    return rep, probs


def evaluate(
    model: str,
    dataset: str,
    data: str,
    split: str = "PrivateTest",
    json_out: str | None = None,
    tta: int = 0,
    precision: str = DEFAULT_PRECISION,
    **kw,
) -> dict:
    """Evaluate and write the JSON report (and ``<json stem>_confusion.png`` beside it)."""
    ds = load_dataset(dataset, data, split, **kw)
    clf = load_classifier(model, precision=precision)
    if tuple(ds.classes) != tuple(clf.classes):
        raise ValueError(f"dataset classes {ds.classes} differ from model classes {clf.classes}")
    rep, _ = evaluate_faceset(clf, ds, tta)
    rep = {
        "model": getattr(clf, "name", model),
        "precision": getattr(clf, "precision", "fp32"),
        "dataset": dataset,
        "data": str(data),
        "split": ds.split,
        "tta": tta,
        **rep,
    }
    if ds.skipped:
        rep["skipped"] = ds.skipped
    if json_out:
        png = Path(json_out).with_name(Path(json_out).stem + "_confusion.png")
        plot_confusion_matrix(
            np.array(rep["confusion_matrix"]),
            rep["classes"],
            png,
            f"{rep['model']} on {dataset} {ds.split}: accuracy {rep['accuracy']:.2%} (n={rep['n']})",
        )
        rep["confusion_png"] = png.name
        per_class = (
            "\n| class | precision | recall | F1 | n |\n|---|---|---|---|---|\n"
            + "".join(
                f"| {c} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |\n"
                for c, m in rep["per_class"].items()
            )
            + f"\n![confusion matrix]({png.name})\n"
        )
        write_report(json_out, rep, f"{rep['model']} on {dataset} {ds.split}", per_class)
    return rep
