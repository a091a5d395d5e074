"""dlib's detectors: HOG + linear SVM (``get_frontal_face_detector``) and the CNN max-margin object detector
(MMOD, ``mmod_human_face_detector.dat``), with eye centres and nose from dlib's 5-point shape predictor."""

from __future__ import annotations

import numpy as np

from ferkit.utils.dlib_models import dlib_model_path, load_dlib, shape_predictor

from .base import Detection, Detector
from .nms import nms
from .resize import as_bgr


def _landmarks(rgb: np.ndarray, rect) -> np.ndarray:
    """dlib's 5 points (two corners of the image-right eye, two of the image-left eye, the base of the nose) as
    ferkit's convention: image-left eye centre, image-right eye centre, nose."""
    p = np.array([[q.x, q.y] for q in shape_predictor(5)(rgb, rect).parts()], np.float32)
    return np.stack([p[2:4].mean(0), p[0:2].mean(0), p[4]])


class _DlibDetector(Detector):
    """``upsample``: how many times dlib doubles the image first (finds faces down to ~40 / 2^upsample px);
    ``min_score``: the detector's own score threshold (HOG: SVM margin; MMOD: confidence)."""

    def __init__(self, upsample: int = 1, min_score: float = 0.0, iou: float = 0.4, landmarks: bool = True):
        self.dlib = load_dlib()
        self.upsample, self.min_score, self.iou, self.with_landmarks = upsample, min_score, iou, landmarks

    def _raw(self, rgb: np.ndarray) -> list[tuple[object, float]]:
        raise NotImplementedError

    def detect(self, image: np.ndarray) -> list[Detection]:
        rgb = np.ascontiguousarray(as_bgr(image)[:, :, ::-1])
        raw = [(r, s) for r, s in self._raw(rgb) if s >= self.min_score]
        if not raw:
            return []
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r, _ in raw], np.float32)
        scores = np.array([s for _, s in raw], np.float32)
        out = []
        for k in nms(boxes, scores, self.iou):
            lm = _landmarks(rgb, raw[k][0]) if self.with_landmarks else None
            out.append(Detection(boxes[k], float(scores[k]), lm))
        return out


class DlibHOG(_DlibDetector):
    name = "dlib_hog"
    score_scale = "svm_margin"

    def __init__(self, **kw):
        kw.setdefault("min_score", -0.3)
        super().__init__(**kw)
        self.model = self.dlib.get_frontal_face_detector()

    def _raw(self, rgb):
        rects, scores, _ = self.model.run(rgb, self.upsample, self.min_score)
        return list(zip(rects, scores))


class DlibCNN(_DlibDetector):
    name = "dlib_cnn"
    score_scale = "mmod_confidence"

    def __init__(self, **kw):
        kw.setdefault("min_score", 0.0)
        super().__init__(**kw)
        self.model = self.dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat")))

    def _raw(self, rgb):
        return [(d.rect, d.confidence) for d in self.model(rgb, self.upsample)]
