"""Annotated images: boxes, the predicted emotion and its probability, a bar per class for larger faces."""
from __future__ import annotations

import cv2
import numpy as np

from ..config import BARS_MIN_FACE, EMOTION_COLORS


def annotate(image: np.ndarray, faces: list) -> np.ndarray:
    """A copy of ``image`` (BGR) with every face's box, label and probabilities drawn."""
    img = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    scale = max(0.35, min(img.shape[:2]) / 1000)
    thick = max(1, int(round(2 * scale)))
    for f in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in f.box)
        color = EMOTION_COLORS.get(f.emotion, (255, 255, 255))
        cv2.rectangle(img, (x1, y1), (x2, y2), color, thick)
        tag = f"{f.emotion} {f.probabilities[f.emotion]:.0%}"
        if f.track_id is not None:
            tag = f"#{f.track_id} {tag}"
        (tw, th), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, 1)
        ty = y1 - 3 if y1 - th - 4 > 0 else y2 + th + 3
        cv2.rectangle(img, (x1, ty - th - 2), (x1 + tw + 2, ty + 2), color, -1)
        cv2.putText(img, tag, (x1 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (0, 0, 0), 1, cv2.LINE_AA)
        if x2 - x1 >= BARS_MIN_FACE:
            _bars(img, f, x2 + 4, y1, max(60, int((y2 - y1))), scale)
    return img


def _bars(img: np.ndarray, face, x: int, y: int, height: int, scale: float) -> None:
    names = list(face.probabilities)
    row = max(8, height // len(names))
    width = int(90 * max(scale, 0.6))
    for i, name in enumerate(names):
        yy = y + i * row
        if yy + row > img.shape[0] or x + width > img.shape[1]:
            return
        p = face.probabilities[name]
        cv2.rectangle(img, (x, yy), (x + width, yy + row - 2), (40, 40, 40), -1)
        cv2.rectangle(img, (x, yy), (x + int(width * p), yy + row - 2), EMOTION_COLORS.get(name, (255, 255, 255)), -1)
        cv2.putText(img, name[:3], (x + 2, yy + row - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.3 * max(scale, 0.8) * row / 12,
                    (255, 255, 255), 1, cv2.LINE_AA)
