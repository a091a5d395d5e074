"""Evaluation protocols on small datasets: random hold-out and subject-independent k-fold (CK+)."""

from __future__ import annotations

import numpy as np

from .faceset import FaceSet


def random_split(ds: FaceSet, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paper 004's protocol: a random, class-stratified hold-out. On CK+ it leaks subjects (and the near-identical
    last frames of one sequence) between train and test, so its figures are optimistic."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(ds.labels):
        idx = rng.permutation(np.flatnonzero(ds.labels == c))
        k = int(round(len(idx) * test_fraction))
        test += idx[:k].tolist()
        train += idx[k:].tolist()
    return np.sort(train), np.sort(test)


def subject_folds(subjects: np.ndarray, k: int = 10, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds in which no subject appears on both sides: subjects are shuffled and dealt to folds so that the
    folds hold similar numbers of images."""
    rng = np.random.default_rng(seed)
    uniq = rng.permutation(np.unique(subjects))
    sizes = {s: int((subjects == s).sum()) for s in uniq}
    fold_of, load = {}, np.zeros(k)
    for s in sorted(uniq, key=lambda s: -sizes[s]):
        f = int(np.argmin(load))
        fold_of[s] = f
        load[f] += sizes[s]
    fold = np.array([fold_of[s] for s in subjects])
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]
