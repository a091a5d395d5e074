"""Training classical (scikit-learn) models: fit on the training split, select hyper-parameters on the
validation split (PublicTest for FER2013), save the chosen estimator with joblib."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import joblib

from ferkit.data import FaceSet, load_dataset
from ferkit.expression.registry import create_model
from ferkit.utils.io import atomic_path, write_json_atomic
from ferkit.utils.reports import command_line

from .hardware import CpuLoad, hardware
from .train import TRAIN_VAL_SPLITS


def train_classical(
    model: str,
    dataset: str,
    data: str,
    out: str | Path,
    grid: dict[str, list] | None = None,
    max_train: int | None = None,
    seed: int = 0,
) -> dict:
    """Fit ``model`` for every combination of ``grid`` (default: the registry's defaults only), keep the one
    with the best validation accuracy; ``max_train`` subsamples the training split at random."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tr_split, va_split = TRAIN_VAL_SPLITS.get(dataset, ("Training", "PublicTest"))
    train, val = load_dataset(dataset, data, tr_split), load_dataset(dataset, data, va_split)
    train = train.sample(max_train, seed)
    t_all = time.perf_counter()
    with CpuLoad() as load:
        best_est, best, trials = grid_search(model, train, val, grid)
    with atomic_path(out / "model.joblib") as tmp:
        joblib.dump(best_est, tmp)
    summary = {
        "model": model,
        "dataset": dataset,
        "data": str(data),
        "n_train": len(train),
        "grid": grid or {},
        "trials": trials,
        "best_params": best["params"],
        "best_val_acc": best["val_acc"],
        "train_seconds": round(time.perf_counter() - t_all, 1),
        "hardware": hardware(load.peak),
        "peak_load_average": load.peak,
        "command": command_line(),
        "estimator": str(out / "model.joblib"),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


def grid_search(model: str, train: FaceSet, val: FaceSet, grid: dict[str, list] | None = None):
    """Fit ``model`` on ``train`` for every combination of ``grid``; return the estimator with the best accuracy
    on ``val``, its trial record and all trials."""
    grid = grid or {}
    keys = sorted(grid)
    trials, best, best_est = [], None, None
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values))
        t = time.perf_counter()
        est = create_model(model, **params).fit(train.images, train.labels)
        acc = float((est.predict(val.images) == val.labels).mean())
        trial = {"params": params, "val_acc": round(acc, 5), "seconds": round(time.perf_counter() - t, 1)}
        trials.append(trial)
        print(json.dumps(trial), flush=True)
        if best is None or acc > best["val_acc"]:
            best, best_est = trial, est
    return best_est, best, trials
