"""Annotated images: boxes, the predicted emotion and its probability, a bar per class for larger faces."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.config import BARS_MIN_FACE, EMOTION_COLORS


def annotate(image: np.ndarray, faces: list, note: str = "") -> np.ndarray:
    """A copy of ``image`` (BGR) with every face's box, label and probabilities drawn (a dashed box and a ``?``
    where the face is flagged uncertain), and ``note`` written in its top-left corner."""
    img = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    if note:
        scale = float(np.clip(img.shape[1] / 600, 0.35, 1.5))
        (tw, th), _ = cv2.getTextSize(note, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(img, (0, 0), (tw + 6, th + 8), (0, 0, 0), -1)
        cv2.putText(img, note, (3, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    for f in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in f.box)
        scale = float(np.clip((x2 - x1) / 160, 0.35, 1.5))  # text sized by the face, readable on small ones
        thick = max(1, int(round(2 * scale)))
        color = EMOTION_COLORS.get(f.emotion, (255, 255, 255))
        if f.uncertain:  # a dashed box: the model is not confident
            _dashed_rectangle(img, (x1, y1), (x2, y2), color, thick)
        else:
            cv2.rectangle(img, (x1, y1), (x2, y2), color, thick)
        tag = f"{f.emotion}{'?' if f.uncertain else ''} {f.probabilities[f.emotion]:.0%}"
        if f.identity is not None:
            tag = f"{f.identity}: {tag}"
        if f.track_id is not None:
            tag = f"#{f.track_id} {tag}"
        (tw, th), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y1 - 4 if y1 - th - 6 > 0 else y2 + th + 4
        cv2.rectangle(img, (x1, ty - th - 3), (x1 + tw + 3, ty + 3), color, -1)
        cv2.putText(img, tag, (x1 + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
        if x2 - x1 >= BARS_MIN_FACE:
            _bars(img, f, x1, y1, x2, y2)
    return img


def _bars(img: np.ndarray, face, x1: int, y1: int, x2: int, y2: int) -> None:
    """One bar per class beside the box (right, else left; a face filling the frame gets them over its right edge),
    as tall as the box's visible part, 60% of its width, labelled with the class name."""
    names = list(face.probabilities)
    h_img, w_img = img.shape[:2]
    top = max(0, y1)
    row = max(8, (min(y2, h_img) - top) // len(names))
    width = max(40, int(0.6 * (x2 - x1)))
    width = min(width, w_img // 2)
    x = x2 + 4 if x2 + 4 + width <= w_img else x1 - 4 - width if x1 - 4 - width >= 0 else w_img - width
    fs = float(np.clip(row / 40, 0.3, 1.0))
    widest = max(cv2.getTextSize(f"{n} 100%", cv2.FONT_HERSHEY_SIMPLEX, fs, 1)[0][0] for n in names)
    fs *= min(1.0, (width - 6) / widest)  # the labels fit inside their bars
    for i, name in enumerate(names):
        yy = top + i * row
        if yy + row > h_img:
            return
        p = face.probabilities[name]
        cv2.rectangle(img, (x, yy), (x + width, yy + row - 2), (40, 40, 40), -1)
        cv2.rectangle(img, (x, yy), (x + int(width * p), yy + row - 2), EMOTION_COLORS.get(name, (255, 255, 255)), -1)
        cv2.putText(
            img,
            f"{name} {p:.0%}",
            (x + 3, yy + row - 2 - max(2, row // 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            fs,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )


def _dashed_rectangle(img: np.ndarray, p1: tuple[int, int], p2: tuple[int, int], color, thick: int) -> None:
    (x1, y1), (x2, y2) = p1, p2
    dash = max(4, 3 * thick)
    for a, b in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        n = max(1, int(np.hypot(b[0] - a[0], b[1] - a[1]) // dash))
        for i in range(0, n, 2):
            s, e = i / n, min(i + 1, n) / n
            cv2.line(
                img,
                (int(a[0] + (b[0] - a[0]) * s), int(a[1] + (b[1] - a[1]) * s)),
                (int(a[0] + (b[0] - a[0]) * e), int(a[1] + (b[1] - a[1]) * e)),
                color,
                thick,
            )
