"""``Analyzer``: detection -> expression classification, on images, arrays and batches of frames."""
from __future__ import annotations

import os

import numpy as np

from ..config import CROP_SCALE, DEFAULT_PRECISION
from ..detection import Detection, Detector, create_detector
from ..expression.classifier import ExpressionClassifier
from ..expression.preprocess import crop_faces
from ..identity import DlibEmbedder, Gallery
from ..io import read_image
from .results import AnalysisResult, Face


class Analyzer:
    """Detect faces and classify their expressions.

    >>> app = Analyzer()                       # default detector and model
    >>> res = app("group.jpg")                 # or a BGR numpy array
    >>> res.faces[0].emotion, res.to_json(); res.save("annotated.jpg")
    """

    def __init__(self, detector: str | Detector = "default", model: str | ExpressionClassifier = "default",
                 threads: int = 0, gallery: str | os.PathLike | Gallery | None = None, precision: str = DEFAULT_PRECISION):
        self.detector = create_detector(detector) if isinstance(detector, str) else detector
        self.model = ExpressionClassifier(model, threads, precision=precision) if isinstance(model, str) else model
        self.crop_scale = CROP_SCALE.get(self.detector.name, 1.0)
        self.gallery = Gallery.load(gallery) if isinstance(gallery, (str, os.PathLike)) else gallery
        self.embedder = DlibEmbedder() if self.gallery is not None else None

    def __call__(self, source: str | os.PathLike | np.ndarray) -> AnalysisResult:
        if isinstance(source, np.ndarray):
            return self.analyze_frames([source], ["array"])[0]
        return self.analyze_frames([read_image(source)], [str(source)])[0]

    def analyze_frames(self, images: list[np.ndarray], sources: list[str], frames: list[int | None] | None = None,
                       detections: list[list[Detection] | None] | None = None) -> list[AnalysisResult]:
        """Analyse several images at once: faces of all images are classified in one batch. ``detections``: faces
        already found per image (``None``: detect), e.g. carried over from an earlier video frame."""
        detections = detections or [None] * len(images)
        dets = [self.detector.detect(img) if d is None else d for img, d in zip(images, detections)]
        crops = [crop_faces(img, d, self.crop_scale) for img, d in zip(images, dets)]
        probs = self.model.predict_proba(np.concatenate(crops) if crops else np.zeros((0, 48, 48), np.uint8))
        frames = frames or [None] * len(images)
        results, k = [], 0
        for img, src, fr, d in zip(images, sources, frames, dets):
            faces = [self._face(i, det, probs[k + i]) for i, det in enumerate(d)]
            k += len(d)
            if self.embedder is not None and faces:
                names = self.gallery.identify(self.embedder.embed(img, np.array([f.box for f in faces])))
                for f, (name, dist) in zip(faces, names):
                    f.identity, f.identity_distance = name, dist
            results.append(AnalysisResult(src, faces, fr, img))
        return results

    def _face(self, index: int, det: Detection, p: np.ndarray) -> Face:
        classes = self.model.classes
        return Face([float(v) for v in det.box], det.score, classes[int(np.argmax(p))],
                    {c: float(v) for c, v in zip(classes, p)},
                    det.landmarks.tolist() if det.landmarks is not None else None, index)
