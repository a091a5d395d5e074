"""Plain averaging ensembles (paper 001): the unweighted mean of member probabilities, members chosen on the
selection split by greedy forward selection."""

from __future__ import annotations

import numpy as np

from ferkit.errors import FerkitError


class AverageEnsemble:
    """``predict_proba`` = mean of the members' probabilities (members share their classes)."""

    def __init__(self, members: list):
        if not members:
            raise FerkitError("an ensemble needs at least one member")
        classes = {tuple(m.classes) for m in members}
        if len(classes) != 1:
            raise FerkitError(f"ensemble members disagree on their classes: {sorted(classes)}")
        self.members, self.classes = members, members[0].classes
        self.name = "+".join(m.name for m in members)
        self.precision = None

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(faces) for m in self.members], axis=0)

    def predict(self, faces: np.ndarray) -> np.ndarray:
        return self.predict_proba(faces).argmax(1)


def greedy_members(probs: dict[str, np.ndarray], labels: np.ndarray, max_members: int = 8) -> list[str]:
    """Greedy forward selection on a validation split: add the member that most raises the accuracy of the
    averaged probabilities; stop when none does. ``probs``: member name -> (N, C) validation probabilities."""
    chosen: list[str] = []
    best = -1.0
    while len(chosen) < max_members:
        scores = {
            n: float((np.mean([probs[m] for m in chosen + [n]], 0).argmax(1) == labels).mean())
            for n in probs
            if n not in chosen
        }
        if not scores:
            break
        name, acc = max(scores.items(), key=lambda kv: kv[1])
        if acc <= best:
            break
        chosen.append(name)
        best = acc
    return chosen
