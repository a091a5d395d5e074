"""Turning detections into the grey 48x48 crops expression models take."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..config import FACE_SIZE
from ..detection.base import Detection


def crop_faces(image: np.ndarray, detections: list[Detection], crop_scale: float = 1.0,
               size: int = FACE_SIZE, align: bool = True) -> np.ndarray:
    """(N, size, size) uint8 grey crops, one per detection: a square of ``crop_scale`` x the box's longer side,
    centred on the box, rotated upright from the eye landmarks when the detector gives them."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    out = np.empty((len(detections), size, size), np.uint8)
    for i, d in enumerate(detections):
        x1, y1, x2, y2 = (float(v) for v in d.box)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        side = max(x2 - x1, y2 - y1, 1.0) * crop_scale
        angle = 0.0
        if align and d.landmarks is not None and len(d.landmarks) >= 2:
            (lx, ly), (rx, ry) = d.landmarks[0], d.landmarks[1]
            angle = math.degrees(math.atan2(ry - ly, rx - lx))
        m = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
        m[:, 2] += (size / 2 - cx, size / 2 - cy)
        out[i] = cv2.warpAffine(grey, m, (size, size), flags=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    return out
