"""FaceSet: an in-memory set of grey face crops with labels, usable as a torch Dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ferkit.config import EMOTIONS, FACE_SIZE
from ferkit.utils.io import decode_image

from .sources import FileSource


@dataclass
class FaceSet:
    """Grey face crops ``images`` (N, S, S) uint8 with integer ``labels`` indexing ``classes``.

    ``names`` identifies each image (file name or CSV row); ``split`` names the split;
    ``votes`` holds per-class vote counts where the dataset has them (FER+).
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = EMOTIONS
    names: list[str] = field(default_factory=list)
    split: str = ""
    votes: np.ndarray | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.images[i], int(self.labels[i])

    def counts(self) -> dict[str, int]:
        """Number of images per class name."""
        c = np.bincount(self.labels, minlength=len(self.classes))
        return {name: int(n) for name, n in zip(self.classes, c)}

    def keys(self) -> list[str]:
        """Unique face keys, equal for a dataset and a masked copy of it (``ferkit mask``):
        ``<class>/<face_key>`` (FER2013's Kaggle copy has two file names in two class folders each)."""
        return [f"{self.classes[c]}/{face_key(n, self.split)}" for n, c in zip(self.names, self.labels)]

    def subset(self, idx: np.ndarray | list[int]) -> "FaceSet":
        idx = np.asarray(idx)
        return FaceSet(
            self.images[idx],
            self.labels[idx],
            self.classes,
            [self.names[i] for i in idx] if self.names else [],
            self.split,
            None if self.votes is None else self.votes[idx],
        )

    def sample(self, n: int | None, seed: int = 0) -> "FaceSet":
        """``n`` faces drawn at random without replacement (all of them when ``n`` is None or not smaller)."""
        if not n or n >= len(self):
            return self
        return self.subset(np.random.default_rng(seed).choice(len(self), n, replace=False))


def face_key(name: str, split: str) -> str:
    """A face's stable key: its file stem (``Training_10118481``), or ``<split>_<stem>`` for CSV rows."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem if stem.startswith(split + "_") else f"{split}_{stem}"


def to_face(img: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """Grey ``size`` x ``size`` uint8 crop from any grey/BGR image."""
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.shape != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return img


def decode_faces(source: FileSource, names: list[str], size: int = FACE_SIZE) -> np.ndarray:
    """Decode the named image files of ``source`` into an (N, size, size) uint8 array."""
    out = np.empty((len(names), size, size), np.uint8)
    index = {n: i for i, n in enumerate(names)}
    for name, data in source.read_many(names):
        out[index[name]] = to_face(decode_image(data, f"{source.path}:{name}", grey=True), size)
    return out
