"""The scale benchmark: annotated faces re-framed so that each spans a set share of the image side, in colour and grey.

Each face of a box set becomes, for every band ``b`` (0.05 .. 1.0), a square frame of side ``S`` (one of
``SCALE_SIDES``) in which the face's longer box side is ``b * S``: the photo is scaled and shifted so that the face
sits in the middle, and where the photo does not reach the frame is mid-grey. ``S`` is the largest side that needs
no more than ``SCALE_MAX_UPSAMPLE`` x the face's own pixels (a face too small for even the smallest side is left out
of that band). Band 1.0 is a tight crop: the frame is the face box itself. The frame's target face is scored; other
annotated faces in it are set aside (neither found nor missed, VOC's difficult boxes).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ferkit.config import SCALE_BANDS, SCALE_MAX_UPSAMPLE, SCALE_MIN_FACE, SCALE_SIDES
from ferkit.data.voc import BoxedImage

from .base import Detector
from .evaluate import evaluate_detector


@dataclass(frozen=True)
class Band:
    """The faces' share of the frame side and the frames made for it."""

    share: float
    frames: list[BoxedImage]


def reframe(item: BoxedImage, face: int, share: float, side: int, grey: bool) -> BoxedImage:
    """``item`` re-framed around its box ``face`` so that the box's longer side is ``share`` of a ``side``-px square."""
    x1, y1, x2, y2 = item.boxes[face]
    s = side * share / max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2 * s, (y1 + y2) / 2 * s
    m = np.array([[s, 0, side / 2 - cx], [0, s, side / 2 - cy]], np.float32)
    src = item.image if item.image.ndim == 3 else cv2.cvtColor(item.image, cv2.COLOR_GRAY2BGR)
    img = cv2.warpAffine(
        src,
        m,
        (side, side),
        flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(127, 127, 127),
    )
    if grey:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    boxes = np.concatenate([item.boxes, item.ignore]) * s + [m[0, 2], m[1, 2], m[0, 2], m[1, 2]]
    others = np.delete(boxes, face, 0)
    inside = (others[:, 2] > 0) & (others[:, 3] > 0) & (others[:, 0] < side) & (others[:, 1] < side)
    return BoxedImage(
        f"{item.name}#{face}@{share}/{side}{'g' if grey else 'c'}",
        img,
        boxes[face : face + 1],
        ["face"],
        others[inside],
    )


def scale_bands(
    items: list[BoxedImage], bands: tuple[float, ...] = SCALE_BANDS, sides: tuple[int, ...] = SCALE_SIDES
) -> list[Band]:
    """The frames of every band: each face at least ``SCALE_MIN_FACE`` px, in colour and grey."""
    out = []
    for share in bands:
        frames = []
        for it in items:
            for k, (x1, y1, x2, y2) in enumerate(it.boxes):
                own = max(x2 - x1, y2 - y1)
                fits = [s for s in sides if share * s <= SCALE_MAX_UPSAMPLE * own]
                if own < SCALE_MIN_FACE or not fits:
                    continue
                frames += [reframe(it, k, share, max(fits), grey) for grey in (False, True)]
        out.append(Band(share, frames))
    return out


def scale_benchmark(detector: Detector, bands: list[Band]) -> list[dict]:
    """Per band: frames, recall of the target faces at the detector's threshold, AP50."""
    rows = []
    for b in bands:
        if not b.frames:
            rows.append({"band": b.share, "frames": 0})
            continue
        rep = evaluate_detector(detector, b.frames)
        rows.append(
            {
                "band": b.share,
                "frames": len(b.frames),
                "recall": rep["recall_at_operating"],
                "ap50": rep["ap50"],
                "precision": rep["precision_at_operating"],
            }
        )
    return rows
