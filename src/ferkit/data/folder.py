"""Any class-per-folder set of face crops (folder or archive), class names matched with synonyms."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from ferkit.config import EMOTION_SYNONYMS, EMOTIONS, IMAGE_EXTENSIONS
from ferkit.errors import DatasetLayoutError

from .faceset import FaceSet, decode_faces
from .sources import FileSource


class ImageFolderFaces(FaceSet):
    """Face crops in ``<root>/.../<class>/<image>``; classes outside ``classes`` are counted in ``skipped``.

    Class folder names are matched case-insensitively with the usual synonyms
    (anger/angry, happiness/happy, sadness/sad, surprised/surprise...).
    """

    def __init__(
        self, root: str | os.PathLike, classes: tuple[str, ...] = EMOTIONS, synonyms: dict[str, str] | None = None
    ):
        synonyms = EMOTION_SYNONYMS if synonyms is None else synonyms
        source = FileSource(root)
        picked: list[tuple[str, int]] = []
        skipped: Counter[str] = Counter()
        for n in source.names():
            parts = n.split("/")
            if len(parts) < 2 or not parts[-1].lower().endswith(IMAGE_EXTENSIONS) or parts[-1].startswith("."):
                continue
            folder = parts[-2].lower()
            name = synonyms.get(folder, folder)
            if name in classes:
                picked.append((n, classes.index(name)))
            else:
                skipped[parts[-2]] += 1
        if not picked:
            raise DatasetLayoutError(
                f"{root}: no images in class folders named after {', '.join(classes)} "
                f"(found folders: {', '.join(sorted(skipped)) or 'none'})"
            )
        picked.sort()
        names = [n for n, _ in picked]
        super().__init__(
            decode_faces(source, names),
            np.array([c for _, c in picked], np.int64),
            classes,
            names,
            "all",
            skipped=dict(skipped),
        )
