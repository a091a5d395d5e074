"""CK+48: ``CK+48/<expression>/Sxxx_yyy_zzzzzzzz.png`` with 7 classes including contempt."""

from __future__ import annotations

import os

import numpy as np

from .folder import ImageFolderFaces

#: CK+48's classes (contempt replaces FER2013's neutral).
CKPLUS_CLASSES: tuple[str, ...] = ("angry", "contempt", "disgust", "fear", "happy", "sad", "surprise")
_CK_SYNONYMS = {
    "anger": "angry",
    "contempt": "contempt",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "sadness": "sad",
    "surprise": "surprise",
}


class CKPlus(ImageFolderFaces):
    """CK+48 folders or archive; ``subjects`` gives each image's subject id (for subject-independent folds)."""

    def __init__(self, root: str | os.PathLike):
        super().__init__(root, CKPLUS_CLASSES, _CK_SYNONYMS)
        self.split = "all"

    @property
    def subjects(self) -> np.ndarray:
        return np.array([n.rsplit("/", 1)[-1].split("_")[0] for n in self.names])
