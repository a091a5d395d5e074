"""Teacher outputs computed once and stored (``ferkit teach``), so a student distils on any machine without
running the teacher: an ``.npz`` with each face's key and the teacher's log-probabilities (= logits up to a
per-face constant, which the softmax at any temperature ignores)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ferkit.data import load_dataset
from ferkit.errors import DatasetLayoutError
from ferkit.utils.io import atomic_path


@dataclass
class TeacherOutputs:
    keys: np.ndarray  # (N,) str: face keys (``FaceSet.keys``)
    logits: np.ndarray  # (N, C) float32 log-probabilities
    model: str
    split: str

    def for_keys(self, keys: list[str]) -> np.ndarray:
        """The teacher's logits in the order of ``keys``; an error naming the first key it lacks."""
        index = {k: i for i, k in enumerate(self.keys.tolist())}
        missing = [k for k in keys if k not in index]
        if missing:
            raise DatasetLayoutError(
                f"the teacher file has no output for {len(missing)} face(s), e.g. {missing[0]!r}: "
                f"it was computed on another dataset or split ({self.split})"
            )
        return self.logits[[index[k] for k in keys]]

    def save(self, path: str | os.PathLike) -> None:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, keys=self.keys, logits=self.logits, model=self.model, split=self.split)

    @classmethod
    def average(cls, teachers: list["TeacherOutputs"]) -> "TeacherOutputs":
        """The averaging ensemble of stored teachers: the mean of their probabilities on the faces all of them
        cover (the order of the first)."""
        common = set(teachers[0].keys.tolist()).intersection(*(t.keys.tolist() for t in teachers[1:]))
        keys = [k for k in teachers[0].keys.tolist() if k in common]
        if not keys:
            raise DatasetLayoutError("the teacher files share no face")
        probs = np.mean([np.exp(t.for_keys(keys)) for t in teachers], axis=0)
        logits = np.log(np.clip(probs, 1e-8, None)).astype(np.float32)
        return cls(np.array(keys), logits, "+".join(t.model for t in teachers), teachers[0].split)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TeacherOutputs":
        try:
            z = np.load(path, allow_pickle=False)
            return cls(z["keys"], z["logits"].astype(np.float32), str(z["model"]), str(z["split"]))
        except (OSError, KeyError, ValueError) as e:
            raise DatasetLayoutError(f"{path}: not a ferkit teacher file ({e})") from e


def teacher_outputs(
    model: str, dataset: str, data: str | os.PathLike, split: str = "Training", precision: str = "fp32", tta: int = 0
) -> TeacherOutputs:
    """Run a teacher over a dataset split and keep its log-probabilities: a shipped model, an ``.onnx`` file, a
    checkpoint, or several joined by ``+`` (their averaging ensemble); ``tta`` > 1 averages that many views."""
    from ferkit.expression.models import load_classifier
    from ferkit.expression.tta import TTAClassifier

    ds = load_dataset(dataset, data, split)
    clf = load_classifier(model, precision=precision)
    if tta > 1:
        clf = TTAClassifier(clf, tta)
    p = clf.predict_proba(ds.images)
    keys = np.array(ds.keys())
    return TeacherOutputs(keys, np.log(np.clip(p, 1e-8, 1)).astype(np.float32), clf.name, ds.split or split)
