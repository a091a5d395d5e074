"""Datasets in their standard layouts: FER2013 (folders, zip, csv), FER+, CK+48, any image folder."""

from __future__ import annotations

import os

from ferkit.config import EMOTIONS
from ferkit.errors import DatasetLayoutError, UnknownNameError

from .ckplus import CKPLUS_CLASSES, CKPlus
from .faceset import FaceSet, to_face
from .fer2013 import FER2013, canonical_split, write_fer2013_csv
from .ferplus import FERPLUS_CLASSES_8, FERPlus
from .folder import ImageFolderFaces
from .masked import MASK_CLASSES, MaskedVsPlain, MaskPhotoFaces
from .protocols import random_split, subject_folds
from .rafdb import RAFDB

DATASETS = ("fer2013", "ferplus", "ferplus8", "ckplus", "rafdb", "folder", "mask", "mask_photos")


def load_dataset(name: str, path: str | os.PathLike, split: str = "PrivateTest", **kw) -> FaceSet:
    """Load a dataset by name. For ``ferplus`` pass ``images=`` (FER+ image folder/zip or fer2013.csv); for
    ``mask`` (mask / no-mask), ``path`` is the masked FER2013 copy and ``images=`` the plain one; ``mask_photos``:
    the colour face crops of annotated face-mask photos (VOC), split train / val / test."""
    name = name.lower()
    if name == "fer2013":
        return FER2013(path, split)
    if name in ("ferplus", "ferplus8"):  # majority vote over 7 classes, or 8 with contempt
        if not kw.get("images"):
            raise DatasetLayoutError("FER+ needs the FER2013 images too (--images: FER+ image zip or fer2013.csv)")
        return FERPlus(path, kw["images"], split, FERPLUS_CLASSES_8 if name == "ferplus8" else EMOTIONS)
    if name in ("ckplus", "ck+"):
        return CKPlus(path)
    if name == "rafdb":
        return RAFDB(path, split)
    if name == "mask":
        if not kw.get("images"):
            raise DatasetLayoutError("the mask dataset needs the plain FER2013 copy too (--images)")
        return MaskedVsPlain(path, kw["images"], split)
    if name == "mask_photos":
        return MaskPhotoFaces(path, split)
    if name == "folder":
        return ImageFolderFaces(path)
    raise UnknownNameError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


__all__ = [
    "FaceSet",
    "FER2013",
    "FERPlus",
    "CKPlus",
    "ImageFolderFaces",
    "load_dataset",
    "write_fer2013_csv",
    "canonical_split",
    "to_face",
    "RAFDB",
    "random_split",
    "subject_folds",
    "CKPLUS_CLASSES",
    "FERPLUS_CLASSES_8",
    "DATASETS",
    "MASK_CLASSES",
    "MaskedVsPlain",
    "MaskPhotoFaces",
]
