"""Mask / no-mask faces for training a mask detector: a FER2013 copy and its masked copy (``ferkit mask``)."""
from __future__ import annotations

import os

import numpy as np

from .faceset import FaceSet
from .fer2013 import FER2013

MASK_CLASSES: tuple[str, ...] = ("no_mask", "mask")


class MaskedVsPlain(FaceSet):
    """Each face of a FER2013 split twice: plain (label 0, ``no_mask``) and masked (label 1, ``mask``).
    ``masked`` is the folder written by ``ferkit mask --dataset fer2013``; ``plain`` the original dataset."""

    def __init__(self, masked: str | os.PathLike, plain: str | os.PathLike, split: str = "Training"):
        m, p = FER2013(masked, split), FER2013(plain, split)
        images = np.concatenate([p.images, m.images])
        labels = np.concatenate([np.zeros(len(p), np.int64), np.ones(len(m), np.int64)])
        names = [f"plain:{n}" for n in p.names] + [f"masked:{n}" for n in m.names]
        super().__init__(images, labels, MASK_CLASSES, names, p.split)
