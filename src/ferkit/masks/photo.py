"""Masks drawn on every face of a photo: ferkit's detector finds the faces, dlib's landmarks place the masks."""

from __future__ import annotations

import numpy as np

from ferkit.detection import Detector, create_detector
from ferkit.face.landmarks import frame_from_box
from ferkit.face.preprocess import Framing

from .synthesize import MaskPlacement, mask_face, rng_for
from .templates import MaskTemplate, load_templates


def mask_photo(
    img: np.ndarray,
    detector: str | Detector = "default",
    seed: int = 0,
    key: str = "",
    templates: dict[str, MaskTemplate] | None = None,
    kinds: tuple[str, ...] | None = None,
    patterns: float = 0.0,
) -> tuple[np.ndarray, list[MaskPlacement]]:
    """``img`` with a mask on each detected face (drawn in detection order), and the placements.
    The same ``seed`` and ``key`` (e.g. the file name) give the same masks."""
    det = create_detector(detector) if isinstance(detector, str) else detector
    templates = templates or load_templates()
    framing = Framing.of(det.name)
    out, placements = img.copy(), []
    for i, d in enumerate(det.detect(img)):
        frame = frame_from_box(tuple(float(v) for v in d.box), framing)
        out, pl = mask_face(out, frame, rng_for(seed, f"{key}#{i}"), templates, kinds, patterns=patterns)
        placements.append(pl)
    return out, placements
