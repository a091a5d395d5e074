"""``ferkit crossval``: a model trained and tested on a dataset without official splits (CK+48, image folders)
under one of two protocols, resumable fold by fold.

- ``holdout``: paper 004's random, class-stratified 80/20 split (leaks CK+ subjects between train and test),
  repeated ``repeats`` times (attempt k: its own split and initialisation, seed + k; paper 004 made ten attempts);
- ``subject-kfold``: k folds in which no subject is on both sides (CK+ subject ids from the file names).

Inside each training part a validation part is held out (10% at random for ``holdout``, one ninth of the training
subjects for ``subject-kfold``): hyper-parameters, early stopping and the kept checkpoint are chosen on it, never on
the test part. Each fold writes ``fold_XX/result.json``; a rerun skips finished folds and resumes a torch fold from
its last checkpoint.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import joblib
import numpy as np

from ferkit.config import CROSSVAL_FOLDS, CROSSVAL_TEST_FRACTION, CROSSVAL_VAL_FRACTION
from ferkit.data import FaceSet, load_dataset, random_split, subject_folds
from ferkit.evaluation.metrics import classification_report
from ferkit.evaluation.plots import plot_confusion_matrix
from ferkit.expression.registry import model_kind
from ferkit.utils.io import atomic_path, write_json_atomic
from ferkit.utils.reports import command_line, write_report

from .hardware import CpuLoad, hardware

PROTOCOLS = ("holdout", "subject-kfold")


def fold_seed(protocol: str, seed: int, k: int) -> int:
    """The seed of fold ``k``: each hold-out attempt has its own split and initialisation (seed + k); the folds of
    one subject k-fold partition share ``seed``."""
    return seed + k if protocol == "holdout" else seed


def protocol_folds(
    ds: FaceSet, protocol: str, folds: int = CROSSVAL_FOLDS, seed: int = 0, repeats: int = 1
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(train, validation, test) index arrays of each fold of ``protocol`` on ``ds`` (for ``holdout``: of each of
    its ``repeats`` attempts)."""
    if protocol == "holdout":
        out = []
        for k in range(repeats):
            rest, test = random_split(ds, CROSSVAL_TEST_FRACTION, fold_seed(protocol, seed, k))
            tr, va = random_split(ds.subset(rest), CROSSVAL_VAL_FRACTION, fold_seed(protocol, seed, k))
            out.append((rest[tr], rest[va], test))
        return out
    if protocol == "subject-kfold":
        subjects = getattr(ds, "subjects", None)
        if subjects is None:
            raise ValueError("the subject-kfold protocol needs subject ids (CK+48 file names Sxxx_...)")
        out = []
        for rest, test in subject_folds(subjects, folds, seed):
            tr, va = subject_folds(subjects[rest], folds - 1, seed)[0]
            out.append((rest[tr], rest[va], test))
        return out
    raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def _fit_fold(model: str, train: FaceSet, val: FaceSet, fold_dir: Path, recipe: str, grid: dict | None, seed: int):
    """Train one fold; return a classifier with ``predict_proba`` and a note of what was chosen."""
    if model_kind(model) == "classical":
        from .classical import grid_search

        est, best, _ = grid_search(model, train, val, grid)
        fold_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(fold_dir / "model.joblib") as tmp:
            joblib.dump(est, tmp)
        return est.predict_proba, {"best_params": best["params"], "val_acc": best["val_acc"]}
    from ferkit.expression.export import TorchClassifier

    from .train import fit_faces

    last = fold_dir / "checkpoints" / "last.ckpt"
    s = fit_faces(model, train, val, fold_dir, recipe, resume=last.exists(), seed=seed)
    clf = TorchClassifier(s["best_checkpoint"], train.classes)
    last.unlink(missing_ok=True)  # the fold is done: only the selected weights are kept
    return clf.predict_proba, {
        "val_acc": s["best_val_acc"],
        "epochs_done": s["epochs_done"],
        "stopped_by": s["stopped_by"],
    }


def _note(result: dict) -> dict:
    """A fold's record without its per-face arrays."""
    return {k: v for k, v in result.items() if k not in ("test_index", "pred")}


def fold_summary(results: list[dict]) -> dict:
    """Mean and spread of the fold accuracies, the folds' total time, the peak load while they trained (folds
    recorded before loads were sampled have none) and their notes (finished or not)."""
    accs = np.array([r["accuracy"] for r in results])
    return {
        "folds": len(results),
        "accuracy_mean": round(float(accs.mean()), 5),
        "accuracy_std": round(float(accs.std()), 5),
        "accuracy_max": round(float(accs.max()), 5),
        "fold_accuracies": accs.tolist(),
        "train_seconds": round(sum(r["seconds"] for r in results), 1),
        "peak_load_average": max(
            (r["peak_load_average"] for r in results if r.get("peak_load_average") is not None), default=None
        ),
        "fold_notes": [_note(r) for r in results],
    }


def crossval(
    model: str,
    dataset: str,
    data: str,
    out: str | Path,
    protocol: str = "subject-kfold",
    folds: int = CROSSVAL_FOLDS,
    recipe: str = "paper004",
    grid: dict | None = None,
    seed: int = 0,
    repeats: int = 1,
) -> dict:
    """Run every fold of ``protocol`` (skipping finished ones) and write ``crossval.json`` / ``.md`` and a pooled
    confusion matrix in ``out``; return the summary (mean and spread of the fold accuracies, pooled report).
    ``repeats``: attempts of the ``holdout`` protocol."""
    out = Path(out)
    ds = load_dataset(dataset, data)
    splits = protocol_folds(ds, protocol, folds, seed, repeats)
    results = []
    for k, (tr, va, te) in enumerate(splits):
        fold_dir = out / f"fold_{k:02d}"
        done = fold_dir / "result.json"
        if not done.exists():
            t = time.perf_counter()
            with CpuLoad() as load:
                predict_proba, note = _fit_fold(
                    model, ds.subset(tr), ds.subset(va), fold_dir, recipe, grid, fold_seed(protocol, seed, k)
                )
            pred = predict_proba(ds.images[te]).argmax(1)
            res = {
                "fold": k,
                "n_train": len(tr),
                "n_val": len(va),
                "n_test": len(te),
                **note,
                "accuracy": round(float((pred == ds.labels[te]).mean()), 5),
                "seconds": round(time.perf_counter() - t, 1),
                "peak_load_average": load.peak,
                "test_index": te.tolist(),
                "pred": pred.tolist(),
            }
            write_json_atomic(done, res)
            print(json.dumps(_note(res)), flush=True)
        results.append(json.loads(done.read_text()))
    y_true = np.concatenate([ds.labels[r["test_index"]] for r in results])
    y_pred = np.concatenate([r["pred"] for r in results])
    pooled = classification_report(y_true, y_pred, tuple(ds.classes))
    per_fold = fold_summary(results)
    summary = {
        "model": model,
        "dataset": dataset,
        "data": str(data),
        "protocol": protocol,
        "recipe": None if model_kind(model) == "classical" else recipe,
        "grid": grid,
        **per_fold,
        **{k: pooled[k] for k in ("accuracy", "macro_f1", "n")},
        "hardware": hardware(per_fold["peak_load_average"]),
        "command": command_line(),
        "per_class": pooled["per_class"],
        "confusion_matrix": pooled["confusion_matrix"],
    }
    png = out / "crossval_confusion.png"
    plot_confusion_matrix(
        np.array(pooled["confusion_matrix"]),
        list(ds.classes),
        png,
        f"{model} on {dataset}, {protocol}: accuracy {pooled['accuracy']:.2%} (n={pooled['n']})",
    )
    write_report(
        out / "crossval.json",
        summary,
        f"{model} on {dataset}, protocol {protocol}",
        f"\n![pooled confusion matrix]({png.name})\n",
    )
    return summary
