"""FER+: FER2013 images relabelled by 10 annotators (``fer2013new.csv``)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ferkit.config import EMOTIONS
from ferkit.errors import DatasetLayoutError

from .faceset import FaceSet, decode_faces
from .fer2013 import FER2013, canonical_split
from .sources import FileSource

#: Vote columns of fer2013new.csv, in file order.
FERPLUS_COLUMNS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
#: Our class name for each FER+ emotion column (the first 8 columns).
_TO_OURS = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "contempt": "contempt",
}
FERPLUS_CLASSES_8: tuple[str, ...] = EMOTIONS + ("contempt",)
_IMAGE_FOLDERS = {"Training": "FER2013Train", "PublicTest": "FER2013Valid", "PrivateTest": "FER2013Test"}


def read_votes(path: str | os.PathLike) -> list[dict]:
    """Rows of fer2013new.csv: {'row', 'usage', 'name', 'votes' (10 ints)}."""
    rows = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if [h.strip() for h in header[2:12]] != list(FERPLUS_COLUMNS):
            raise DatasetLayoutError(
                f"{path}: not fer2013new.csv: expected columns Usage, Image name, {', '.join(FERPLUS_COLUMNS)}"
            )
        for i, r in enumerate(reader):
            rows.append({"row": i, "usage": r[0].strip(), "name": r[1].strip(), "votes": [int(v) for v in r[2:12]]})
    return rows


def majority_label(votes: np.ndarray, classes: tuple[str, ...]) -> int:
    """FER+ majority vote: drop single stray votes, then a strict majority; -1 if none, unknown or not-a-face."""
    v = np.where(votes <= 1, 0, votes)
    total = v.sum()
    if total == 0:
        return -1
    top = int(np.argmax(v))
    if v[top] * 2 <= total or FERPLUS_COLUMNS[top] in ("unknown", "NF"):
        return -1
    ours = _TO_OURS[FERPLUS_COLUMNS[top]]
    return classes.index(ours) if ours in classes else -1


class FERPlus(FaceSet):
    """FER+ labels on FER2013 faces.

    ``votes_csv`` is ``fer2013new.csv``; ``images`` is either the FER+ image layout
    (``FER2013Train|FER2013Valid|FER2013Test/ferXXXXXXX.png``, folder or zip) or the original
    ``fer2013.csv`` (same row order). Labels are majority votes over ``classes`` (7, or 8 with
    contempt); images without a majority, or voted unknown / not-a-face, are dropped. ``votes``
    keeps the per-class vote distribution over ``classes``.
    """

    def __init__(
        self,
        votes_csv: str | os.PathLike,
        images: str | os.PathLike,
        split: str = "Training",
        classes: tuple[str, ...] = EMOTIONS,
    ):
        split = canonical_split(split)
        split_rows = [r for r in read_votes(votes_csv) if r["usage"] == split]
        rows = [r for r in split_rows if r["name"]]
        images = Path(images)
        if images.is_file() and images.suffix.lower() == ".csv":
            full = FER2013(images, split)
            first = split_rows[0]["row"]  # rows of one split are contiguous, in fer2013.csv's order
            pix = {r["name"]: full.images[r["row"] - first] for r in rows}
        else:
            source = FileSource(images)
            folder = _IMAGE_FOLDERS[split]
            files = {n.rsplit("/", 1)[-1]: n for n in source.names() if f"/{folder}/" in f"/{n}" and n.endswith(".png")}
            if not files:
                raise DatasetLayoutError(f"{images}: no {folder}/fer*.png images (FER+ layout)")
            rows = [r for r in rows if r["name"] in files]
            arr = decode_faces(source, [files[r["name"]] for r in rows])
            pix = {r["name"]: arr[i] for i, r in enumerate(rows)}
        col = [FERPLUS_COLUMNS.index(k) for k, v in _TO_OURS.items()]
        order = [list(_TO_OURS.values()).index(c) for c in classes]
        keep, labels, dist = [], [], []
        for r in rows:
            votes = np.array(r["votes"])
            lab = majority_label(votes, classes)
            if lab < 0:
                continue
            keep.append(r["name"])
            labels.append(lab)
            dist.append(votes[col][order])
        super().__init__(
            np.stack([pix[n] for n in keep]),
            np.array(labels, np.int64),
            classes,
            keep,
            split,
            np.array(dist, np.float32),
            {"dropped": len(rows) - len(keep)},
        )
