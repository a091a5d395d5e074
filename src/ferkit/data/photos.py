"""Labelled photos: whole images (not face crops) with one emotion label each, for scoring the full pipeline.

Layout (a folder, .zip or .tar, optionally inside one top folder): ``labels.csv`` with columns ``image,emotion``
and the images under ``images/`` (muxspace/facial_expressions' layout: ``images/<name>.jpg``, labels by name).
Emotion names are mapped to the 7 FER2013 classes (config ``EMOTION_SYNONYMS``); other labels are dropped.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np

from ferkit.config import EMOTION_SYNONYMS, EMOTIONS
from ferkit.errors import DatasetLayoutError
from ferkit.utils.io import decode_image

from .sources import FileSource


@dataclass
class LabelledPhotos:
    """``names``, decoded BGR (or grey) ``images`` and ``labels`` (indices into ``classes``) of labelled photos."""

    names: list[str]
    images: list[np.ndarray]
    labels: np.ndarray
    classes: tuple[str, ...] = EMOTIONS

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LabelledPhotos":
        source = FileSource(path)
        files = source.names()
        csvs = [n for n in files if n.rsplit("/", 1)[-1] == "labels.csv"]
        if len(csvs) != 1:
            raise DatasetLayoutError(f"{path}: expected one labels.csv (columns image,emotion) beside images/")
        top = csvs[0][: -len("labels.csv")]
        text = next(source.read_many(csvs))[1].decode("utf-8-sig")
        rows = [
            (r.get("image", ""), EMOTION_SYNONYMS.get(r.get("emotion", "").strip().lower()))
            for r in csv.DictReader(io.StringIO(text))
        ]
        rows = [(n, e) for n, e in rows if n and e in EMOTIONS]
        wanted = {f"{top}images/{n}": (n, e) for n, e in rows}
        missing = [n for n in wanted if n not in set(files)]
        if missing:
            raise DatasetLayoutError(f"{path}: {len(missing)} labelled images missing, e.g. {missing[0]}")
        order = sorted(wanted)
        images = {k: decode_image(b, k) for k, b in source.read_many(order)}
        return cls(
            [wanted[k][0] for k in order],
            [images[k] for k in order],
            np.array([EMOTIONS.index(wanted[k][1]) for k in order], np.int64),
        )
