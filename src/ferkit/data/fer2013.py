"""FER2013: Kaggle image folders (or their zip) and the original ``fer2013.csv``."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ferkit.config import EMOTION_SYNONYMS, EMOTIONS, FACE_SIZE, FER2013_SPLITS
from ferkit.errors import DatasetLayoutError
from ferkit.utils.io import atomic_path

from .faceset import FaceSet, decode_faces
from .sources import FileSource

_SPLIT_ALIASES = {
    "training": "Training",
    "train": "Training",
    "publictest": "PublicTest",
    "public": "PublicTest",
    "val": "PublicTest",
    "validation": "PublicTest",
    "privatetest": "PrivateTest",
    "private": "PrivateTest",
    "test": "PrivateTest",
}


def canonical_split(split: str) -> str:
    """'privatetest', 'test', 'PrivateTest' -> 'PrivateTest' (FER2013's Usage names)."""
    key = split.replace("_", "").replace("-", "").lower()
    if key not in _SPLIT_ALIASES:
        raise DatasetLayoutError(f"unknown FER2013 split {split!r}; use one of {', '.join(FER2013_SPLITS)}")
    return _SPLIT_ALIASES[key]


class FER2013(FaceSet):
    """FER2013 with its official split.

    ``root`` is the extracted Kaggle folder (``train/<class>/Training_*.jpg``,
    ``test/<class>/{PublicTest,PrivateTest}_*.jpg``), that folder zipped, or the original
    ``fer2013.csv`` (columns emotion, pixels, Usage). ``split`` is Training, PublicTest or PrivateTest.
    """

    def __init__(self, root: str | os.PathLike, split: str = "Training"):
        split = canonical_split(split)
        root = Path(root)
        if root.is_file() and root.suffix.lower() == ".csv":
            images, labels, names = _read_csv(root, split)
        else:
            images, labels, names = _read_image_folders(root, split)
        super().__init__(images, labels, EMOTIONS, names, split)


def _read_image_folders(root: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    source = FileSource(root)
    all_names = source.names()
    picked: list[tuple[str, int]] = []
    seen_prefix = False
    for n in all_names:
        parts = n.split("/")
        if len(parts) < 2:
            continue
        base, folder = parts[-1], parts[-2].lower()
        if base.startswith(FER2013_SPLITS):
            seen_prefix = True
        if base.startswith(split + "_") and folder in EMOTION_SYNONYMS:
            picked.append((n, EMOTIONS.index(EMOTION_SYNONYMS[folder])))
    if not seen_prefix:
        raise DatasetLayoutError(
            f"{root}: not a FER2013 layout: expected <class>/Training_*.jpg, <class>/PublicTest_*.jpg and "
            "<class>/PrivateTest_*.jpg files (Kaggle folders or zip) or fer2013.csv"
        )
    if not picked:
        raise DatasetLayoutError(f"{root}: no {split}_* images found in class folders")
    # A stable order that does not depend on the archive or folder listing: by file name.
    picked.sort(key=lambda t: t[0].rsplit("/", 1)[-1])
    names = [n for n, _ in picked]
    labels = np.array([c for _, c in picked], np.int64)
    return decode_faces(source, names), labels, names


def _read_csv(path: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    images, labels, names = [], [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
        if not {"emotion", "pixels", "usage"} <= set(cols):
            raise DatasetLayoutError(
                f"{path}: not fer2013.csv: expected columns emotion, pixels, Usage; got {reader.fieldnames}"
            )
        for row_no, row in enumerate(reader):
            if row[cols["usage"]].strip() != split:
                continue
            px = np.array(row[cols["pixels"]].split(), np.uint8)
            if px.size != FACE_SIZE * FACE_SIZE:
                raise DatasetLayoutError(f"{path}: row {row_no}: {px.size} pixels, expected {FACE_SIZE * FACE_SIZE}")
            images.append(px.reshape(FACE_SIZE, FACE_SIZE))
            labels.append(int(row[cols["emotion"]]))
            names.append(row[cols["name"]] if "name" in cols else f"row{row_no}")
    if not images:
        raise DatasetLayoutError(f"{path}: no rows with Usage == {split}")
    return np.stack(images), np.array(labels, np.int64), names


def write_fer2013_csv(sets: list[FaceSet], path: str | os.PathLike, with_names: bool = False) -> None:
    """Write FaceSets (each with its ``split``) as a ``fer2013.csv`` (emotion, pixels, Usage)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"] + (["name"] if with_names else []))
        for s in sets:
            for i in range(len(s)):
                row = [int(s.labels[i]), " ".join(map(str, s.images[i].ravel())), s.split]
                w.writerow(row + ([s.names[i]] if with_names else []))
