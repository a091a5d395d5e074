"""The full pipeline (detector -> crop -> model) scored on labelled photos: the largest face of each against its
label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferkit.data.photos import LabelledPhotos


@dataclass
class PhotoScores:
    """Per photo: whether a face was found, the largest face's predicted class (-1: none) and probabilities."""

    found: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def summary(self) -> dict:
        """Photos, found, right (share of all photos), per-class recall and what each class was taken for."""
        n, right = len(self.labels), self.predicted == self.labels
        per_class, mistaken = {}, {}
        for c, name in enumerate(self.classes):
            sel = self.labels == c
            if not sel.any():
                continue
            per_class[name] = round(float(right[sel].mean()), 4)
            said = [self.classes[p] if p >= 0 else "no face" for p in self.predicted[sel & ~right]]
            mistaken[name] = {k: said.count(k) for k in sorted(set(said), key=lambda k: -said.count(k))}
        said_all = [self.classes[p] for p in self.predicted[self.found]]
        return {
            "photos": n,
            "found": int(self.found.sum()),
            "right": int(right.sum()),
            "accuracy": round(float(right.mean()), 4),
            "recall_per_class": per_class,
            "mistaken_for": mistaken,
            "labels_given": {c: said_all.count(c) for c in self.classes},
        }


def largest_face(faces: list) -> object | None:
    """The face with the largest box (None for no face)."""
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), default=None)


def score_photos(analyzer, photos: LabelledPhotos) -> PhotoScores:
    """Run ``analyzer`` (an ``Analyzer``) on every photo and keep its largest face."""
    k = len(analyzer.model.classes)
    found, predicted, probs = np.zeros(len(photos), bool), np.full(len(photos), -1), np.zeros((len(photos), k))
    for i, img in enumerate(photos.images):
        face = largest_face(analyzer(img).faces)
        if face is not None:
            found[i] = True
            probs[i] = [face.probabilities[c] for c in analyzer.model.classes]
            predicted[i] = photos.classes.index(face.emotion) if face.emotion in photos.classes else -2
    return PhotoScores(found, predicted, probs, photos.labels, photos.classes)
