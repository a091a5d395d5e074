"""``Analyzer``: detection -> expression classification, on images, arrays and batches of frames."""

from __future__ import annotations

import os

import numpy as np

from ferkit.app.results import AnalysisResult, Face
from ferkit.config import DEFAULT_PRECISION, MASKED_MODEL, MASKED_MODES
from ferkit.detection import Detection, Detector, create_detector
from ferkit.errors import UnknownNameError
from ferkit.expression.calibration import Calibration
from ferkit.expression.models import Classifier, load_classifier
from ferkit.face.preprocess import Framing, crop_faces
from ferkit.identity import Gallery
from ferkit.utils.io import as_image, read_image


class Analyzer:
    """Detect faces and classify their expressions.

    >>> app = Analyzer()                       # default detector and model
    >>> res = app("group.jpg")                 # or a BGR numpy array
    >>> res.faces[0].emotion, res.to_json(); res.save("annotated.jpg")

    ``masked``: ``off`` (every face to ``model``), ``on`` (every face to ``masked_model``) or ``auto`` (the mask
    detector sends the faces that wear a mask to ``masked_model``); each face records which. ``tta`` > 1: each
    face's probabilities are averaged over that many views (expression/tta.py). ``calibrate``: the model's crowd
    calibration (expression/calibration.py), where it ships one, maps its probabilities to what people would say,
    and flags each face whose top probability is under its threshold as ``uncertain``.
    """

    def __init__(
        self,
        detector: str | Detector = "default",
        model: str | Classifier = "default",
        threads: int = 0,
        gallery: str | os.PathLike | Gallery | None = None,
        precision: str = DEFAULT_PRECISION,
        masked: str = "off",
        masked_model: str | Classifier = MASKED_MODEL,
        tta: int = 0,
        calibrate: bool = True,
    ):
        self.detector = create_detector(detector) if isinstance(detector, str) else detector
        self.model = load_classifier(model, precision=precision, threads=threads) if isinstance(model, str) else model
        path = getattr(self.model, "path", None)
        self.calibration = Calibration.of(path.parent) if calibrate and path is not None else None
        self.framing = Framing.of(self.detector.name, template=True)  # expression crops
        self.box_framing = Framing.of(self.detector.name)  # the mask detector's (its threshold was chosen on these)
        self.gallery = Gallery.load(gallery) if isinstance(gallery, (str, os.PathLike)) else gallery
        self.embedder = self.gallery.new_embedder() if self.gallery is not None else None
        if masked not in MASKED_MODES:
            raise UnknownNameError(f"unknown masked mode {masked!r}; use one of {', '.join(MASKED_MODES)}")
        self.masked = masked
        self.masked_model = (
            None
            if masked == "off"
            else (
                load_classifier(masked_model, precision=precision, threads=threads)
                if isinstance(masked_model, str)
                else masked_model
            )
        )
        if tta and tta > 1:
            from ferkit.expression.tta import TTAClassifier

            self.model = TTAClassifier(self.model, tta)
            self.masked_model = self.masked_model and TTAClassifier(self.masked_model, tta)
        self.mask_detector = None
        if masked == "auto":
            from ferkit.masks.detector import MaskDetector

            self.mask_detector = MaskDetector(threads=threads)

    @classmethod
    def from_settings(cls, settings) -> "Analyzer":
        """The analyzer an ``AnalyzeSettings`` describes (validated first)."""
        s = settings.validate()
        return cls(s.detector, s.model, s.threads, s.gallery, s.precision, s.masked, s.masked_model, s.tta, s.calibrate)

    def with_views(self, views: int) -> "Analyzer":
        """A copy that averages each face over ``views`` test-time views; it shares this analyzer's models."""
        from copy import copy

        from ferkit.expression.models import check_views
        from ferkit.expression.tta import TTAClassifier

        check_views(views, "views")
        other = copy(self)
        if views > 1:
            other.model = TTAClassifier(self.model, views)
            other.masked_model = self.masked_model and TTAClassifier(self.masked_model, views)
        return other

    def classify(self, crops: np.ndarray, routed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities of each crop and whether it went to the masked model (``routed``: the mask detector's
        decisions in ``auto`` mode; every crop with ``on``)."""
        if self.masked == "off" or len(crops) == 0:
            return self._main(crops), None
        if routed is None:
            routed = np.ones(len(crops), bool)
        probs = np.zeros((len(crops), len(self.model.classes)), np.float32)
        if (~routed).any():
            probs[~routed] = self._main(crops[~routed])
        if routed.any():
            probs[routed] = self.masked_model.predict_proba(crops[routed])
        return probs, routed

    def _main(self, crops: np.ndarray) -> np.ndarray:
        """The main model's probabilities of ``crops``, calibrated where it has a calibration."""
        p = self.model.predict_proba(crops)
        return self.calibration.apply(p) if self.calibration is not None and len(p) else p

    def __call__(self, source: str | os.PathLike | np.ndarray) -> AnalysisResult:
        if isinstance(source, np.ndarray):
            return self.analyze_frames([as_image(source)], ["array"])[0]
        return self.analyze_frames([read_image(source)], [str(source)])[0]

    def analyze_frames(
        self,
        images: list[np.ndarray],
        sources: list[str],
        frames: list[int | None] | None = None,
        detections: list[list[Detection] | None] | None = None,
    ) -> list[AnalysisResult]:
        """Analyse several images at once: faces of all images are classified in one batch. ``detections``: faces
        already found per image (``None``: detect), e.g. carried over from an earlier video frame."""
        detections = detections or [None] * len(images)
        dets = [self.detector.detect(img) if d is None else d for img, d in zip(images, detections)]
        crops = [crop_faces(img, d, self.framing) for img, d in zip(images, dets)]
        mask_p = routed = None
        if self.mask_detector is not None and crops:
            found = [self.mask_detector.detect(img, d, self.box_framing) for img, d in zip(images, dets)]
            mask_p, routed = np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])
        probs, routed = self.classify(np.concatenate(crops) if crops else np.zeros((0, 48, 48), np.uint8), routed)
        frames = frames or [None] * len(images)
        results, k = [], 0
        for img, src, fr, d in zip(images, sources, frames, dets):
            faces = [self._face(i, det, probs[k + i]) for i, det in enumerate(d)]
            if routed is not None:
                for i, f in enumerate(faces):
                    f.masked = bool(routed[k + i])
                    f.mask_probability = None if mask_p is None else float(mask_p[k + i])
                    f.model = (self.masked_model if f.masked else self.model).name
                    if f.masked:  # the masked model has no calibration
                        f.uncertain = None
            k += len(d)
            if self.embedder is not None and faces:
                names = self.gallery.identify(self.embedder.embed(img, np.array([f.box for f in faces])))
                for f, (name, dist) in zip(faces, names):
                    f.identity, f.identity_distance = name, dist
            results.append(AnalysisResult(src, faces, fr, img))
        return results

    def _face(self, index: int, det: Detection, p: np.ndarray) -> Face:
        classes = self.model.classes
        face = Face(
            [float(v) for v in det.box],
            det.score,
            classes[int(np.argmax(p))],
            {c: float(v) for c, v in zip(classes, p)},
            det.landmarks.tolist() if det.landmarks is not None else None,
            index,
        )
        if self.calibration is not None:
            face.uncertain = bool(p.max() < self.calibration.uncertain_below)
        return face
