"""OpenCV Haar cascade (Viola-Jones) frontal face detector, from the cascades that opencv-python<5 ships."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.errors import FerkitError

from .base import Detection, Detector


class HaarCascade(Detector):
    name = "haar"

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 20):
        data = getattr(cv2, "data", None)
        path = f"{data.haarcascades}haarcascade_frontalface_default.xml" if data else ""
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise FerkitError(
                "OpenCV's Haar cascade files are missing (OpenCV 5 ships none: install opencv-python-headless<5)"
            )
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def detect(self, image: np.ndarray) -> list[Detection]:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        rects, _, weights = self.cascade.detectMultiScale3(
            grey, self.scale_factor, self.min_neighbors, minSize=(self.min_size, self.min_size), outputRejectLevels=True
        )
        return [
            Detection(np.array([x, y, x + w, y + h], np.float32), float(s))
            for (x, y, w, h), s in zip(rects, np.ravel(weights) if len(rects) else [])
        ]
