"""``ferkit enroll``: the largest face of each photo, embedded and added to a gallery file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ferkit.detection import create_detector
from ferkit.errors import BadInputError
from ferkit.utils.io import read_image

from .gallery import DEFAULT_THRESHOLD, Gallery


def enroll(
    gallery: str | os.PathLike, name: str, images: list[str], detector: str = "default", threshold: float | None = None
) -> Gallery:
    """Add ``name`` to ``gallery`` (created if missing). Every photo must show a face: if one does not, nothing
    is written and the error names it."""
    g = Gallery.load(gallery) if Path(gallery).exists() else Gallery(threshold=threshold or DEFAULT_THRESHOLD)
    det, embedder = create_detector(detector), g.new_embedder()
    rows, no_face = [], []
    for path in images:
        img = read_image(path)
        faces = det.detect(img)
        if not faces:
            no_face.append(str(path))
            continue
        best = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        rows.append(embedder.embed(img, best.box[None]))
    if no_face:
        raise BadInputError(f"no face found in {', '.join(no_face)}; gallery left unchanged")
    g.add(name, np.concatenate(rows), [str(p) for p in images])
    g.save(gallery)
    return g
