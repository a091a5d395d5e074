"""Mask / no-mask faces for training and measuring a mask detector: a FER2013 copy and its masked copy
(``ferkit mask``), and the annotated faces of real photos (the Kaggle "Face Mask Detection" set: VOC boxes, class
names in English or, in the shared copy, Spanish)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ferkit.config import MASK_PHOTO_FRAMING
from ferkit.errors import DatasetLayoutError

from .faceset import FaceSet
from .fer2013 import FER2013
from .voc import load_voc, train_val_test

MASK_CLASSES: tuple[str, ...] = ("no_mask", "mask")
#: Annotation class -> with_mask | without_mask | incorrect.
MASK_ANNOTATIONS = {
    "with_mask": "with_mask",
    "con_mascarilla": "with_mask",
    "without_mask": "without_mask",
    "sin_mascarilla": "without_mask",
    "mask_weared_incorrect": "incorrect",
    "mascarilla_mal_puesta": "incorrect",
}
#: Photo splits of ``MaskPhotoFaces``: those of ``data.voc.train_val_test``, and every photo.
MASK_PHOTO_SPLITS = ("train", "val", "test", "all")


class MaskedVsPlain(FaceSet):
    """Each face of a FER2013 split twice: plain (label 0, ``no_mask``) and masked (label 1, ``mask``).
    ``masked`` is the folder written by ``ferkit mask --dataset fer2013``; ``plain`` the original dataset."""

    def __init__(self, masked: str | os.PathLike, plain: str | os.PathLike, split: str = "Training"):
        m, p = FER2013(masked, split), FER2013(plain, split)
        images = np.concatenate([p.images, m.images])
        labels = np.concatenate([np.zeros(len(p), np.int64), np.ones(len(m), np.int64)])
        names = [f"plain:{n}" for n in p.names] + [f"masked:{n}" for n in m.names]
        super().__init__(images, labels, MASK_CLASSES, names, p.split)


@dataclass
class AnnotatedFaces:
    """The annotated faces of a set of photos: 48x48 crops framed by ``MASK_PHOTO_FRAMING``, grey (N, 48, 48) and
    colour (N, 48, 48, 3) BGR; their classes (with_mask / without_mask / incorrect), box sides (px), photo indices
    (archive order) and photo names."""

    crops: np.ndarray
    colour: np.ndarray
    truth: np.ndarray
    sides: np.ndarray
    photo: np.ndarray
    photo_names: np.ndarray

    @property
    def two_classes(self) -> np.ndarray:
        """The with / without-mask faces (those accuracy counts)."""
        return self.truth != "incorrect"

    def subset(self, keep: np.ndarray) -> "AnnotatedFaces":
        return AnnotatedFaces(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def annotated_faces(data: str | os.PathLike) -> AnnotatedFaces:
    """Every annotated face of the VOC photos in ``data`` whose class ``MASK_ANNOTATIONS`` knows."""
    from ferkit.face.detection import Detection
    from ferkit.face.preprocess import Framing, crop_faces

    framing = Framing.of(MASK_PHOTO_FRAMING)
    crops, colour, truth, sides, photo, names = [], [], [], [], [], []
    for n, item in enumerate(load_voc(data)):
        keep = [i for i, lab in enumerate(item.labels) if lab in MASK_ANNOTATIONS]
        dets = [Detection(item.boxes[i], 1.0) for i in keep]
        crops.append(crop_faces(item.image, dets, framing, align=False))
        colour.append(crop_faces(item.image, dets, framing, align=False, colour=True))
        truth += [MASK_ANNOTATIONS[item.labels[i]] for i in keep]
        sides += [float(max(item.boxes[i][2] - item.boxes[i][0], item.boxes[i][3] - item.boxes[i][1])) for i in keep]
        photo += [n] * len(keep)
        names += [item.name] * len(keep)
    if not truth:
        raise DatasetLayoutError(f"{data}: no face annotated with a mask class ({', '.join(MASK_ANNOTATIONS)})")
    return AnnotatedFaces(
        np.concatenate(crops),
        np.concatenate(colour),
        np.array(truth),
        np.array(sides),
        np.array(photo),
        np.array(names),
    )


def photo_split(data: str | os.PathLike, split: str) -> set[str]:
    """The names of the photos of ``split`` (``MASK_PHOTO_SPLITS``) in the VOC photos ``data``."""
    if split not in MASK_PHOTO_SPLITS:
        raise DatasetLayoutError(f"unknown split {split!r} of annotated photos: {', '.join(MASK_PHOTO_SPLITS)}")
    items = load_voc(data)
    if split == "all":
        return {i.name for i in items}
    train, val, test = train_val_test(items)
    return {"train": {i.name for i in train}, "val": {i.name for i in val}, "test": test}[split]


class MaskPhotoFaces(FaceSet):
    """The with / without-mask faces of annotated real photos as 48x48 colour crops (N, 48, 48, 3), labelled
    ``no_mask`` / ``mask``: the photos of ``split`` (train / val / test as ``data.voc.train_val_test`` splits them,
    like the detectors trained on the same photos, or all). ``names``: photo name and the face's number in it."""

    def __init__(self, data: str | os.PathLike, split: str = "train", faces: AnnotatedFaces | None = None):
        photos = photo_split(data, split)
        faces = faces or annotated_faces(data)
        number = np.array([int((faces.photo_names[:k] == n).sum()) for k, n in enumerate(faces.photo_names)])
        keep = faces.two_classes & np.isin(faces.photo_names, list(photos))
        f = faces.subset(keep)
        super().__init__(
            f.colour,
            (f.truth == "with_mask").astype(np.int64),
            MASK_CLASSES,
            [f"{n}#{k}" for n, k in zip(f.photo_names, number[keep])],
            split,
        )
