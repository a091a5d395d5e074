"""RAF-DB basic: ``EmoLabel/list_patition_label.txt`` (``train_00001.jpg 5``) + ``Image/aligned/*_aligned.jpg``."""

from __future__ import annotations

import os

import numpy as np

from ferkit.config import EMOTIONS
from ferkit.errors import DatasetLayoutError

from .faceset import FaceSet, decode_faces
from .sources import FileSource

#: RAF-DB's label order (1..7) mapped to our class names.
RAFDB_LABELS = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry", 7: "neutral"}


class RAFDB(FaceSet):
    """RAF-DB basic emotions, ``split`` ``train`` or ``test`` (from the file-name prefix), aligned faces
    (``*_aligned.jpg``, or the original name when no aligned copy exists) converted to 48x48 grey."""

    def __init__(self, root: str | os.PathLike, split: str = "train"):
        split = {"training": "train", "train": "train", "test": "test", "privatetest": "test"}.get(split.lower(), split)
        source = FileSource(root)
        names = source.names()
        label_files = [n for n in names if n.rsplit("/", 1)[-1] == "list_patition_label.txt"]
        if not label_files:
            raise DatasetLayoutError(f"{root}: not RAF-DB: no EmoLabel/list_patition_label.txt")
        text = dict(source.read_many(label_files[:1]))[label_files[0]].decode()
        by_base = {n.rsplit("/", 1)[-1]: n for n in names}
        picked, labels = [], []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 2 or not parts[0].startswith(split + "_"):
                continue
            stem = parts[0].rsplit(".", 1)[0]
            path = by_base.get(f"{stem}_aligned.jpg") or by_base.get(parts[0])
            if path is None:
                raise DatasetLayoutError(
                    f"{root}: image for {parts[0]} not found (expected Image/aligned/{stem}_aligned.jpg)"
                )
            picked.append(path)
            labels.append(EMOTIONS.index(RAFDB_LABELS[int(parts[1])]))
        if not picked:
            raise DatasetLayoutError(f"{root}: no {split}_* entries in {label_files[0]}")
        super().__init__(decode_faces(source, picked), np.array(labels, np.int64), EMOTIONS, picked, split)
