"""Mask detection at run time: ferkit's shipped mask / no-mask classifiers on 48x48 face crops (ONNX)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.config import MASK_DETECTOR_DIR, MASK_PHOTO_DETECTOR_DIR, MASK_THRESHOLD
from ferkit.data.masked import AnnotatedFaces
from ferkit.errors import FerkitError
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.face.detection import Detection
from ferkit.face.preprocess import Framing, crop_faces


class MaskClassifier:
    """``mask_probability(faces)``: (N, 48, 48) uint8 grey crops, or (N, 48, 48, 3) BGR crops for a colour model
    (``colour``), -> (N,) probability that the face wears a mask; ``is_masked`` compares it with ``threshold``
    (default: the card's, else ``MASK_THRESHOLD``). A card's ``trained_on`` / ``validated_on`` list the photos
    the classifier learnt from or was tuned on (evaluation leaves them out)."""

    def __init__(
        self, path: str | Path = MASK_DETECTOR_DIR / "model.onnx", threads: int = 0, threshold: float | None = None
    ):
        path = Path(path)
        if not path.is_file():
            raise FerkitError(
                f"{path}: mask detector weights are missing (reinstall ferkit, or train one with "
                "`ferkit train --model mask_net --dataset mask|mask_photos` and ship it with "
                "`ferkit ship --mask-detector`)"
            )
        self.clf = ExpressionClassifier(str(path), threads)  # batched ONNX Runtime; classes from its card.json
        self.card, self.classes = self.clf.card, self.clf.classes
        self.threshold = threshold if threshold is not None else float(self.card.get("threshold", MASK_THRESHOLD))
        self.colour = self.clf.session.get_inputs()[0].shape[1] == 3
        self.seen_photos = set(self.card.get("trained_on", [])) | set(self.card.get("validated_on", []))

    def mask_probability(self, faces: np.ndarray) -> np.ndarray:
        return self.clf.predict_proba(faces)[:, self.classes.index("mask")]

    def is_masked(self, faces: np.ndarray) -> np.ndarray:
        return self.mask_probability(faces) >= self.threshold

    def face_probability(self, faces: AnnotatedFaces) -> np.ndarray:
        """P(mask) of annotated photo faces (their colour or grey crops, as the model takes)."""
        return self.mask_probability(faces.colour if self.colour else faces.crops)


class MaskDetector:
    """Which faces of an image wear a mask. On a colour image, P(mask) is the weighted mean of the classifier
    trained on real colour photos (weight ``colour_weight``) and the one trained on synthesized grey faces, compared
    with ``threshold`` (both chosen on the colour classifier's validation photos, stored in its card); on a grey
    image, the grey classifier alone with its own threshold (the colour one has never seen a grey face)."""

    def __init__(
        self,
        threads: int = 0,
        colour: str | Path = MASK_PHOTO_DETECTOR_DIR / "model.onnx",
        grey: str | Path = MASK_DETECTOR_DIR / "model.onnx",
        colour_weight: float | None = None,
        threshold: float | None = None,
    ):
        self.colour, self.grey = MaskClassifier(colour, threads), MaskClassifier(grey, threads)
        self.colour_weight = float(
            self.colour.card.get("colour_weight", 1.0) if colour_weight is None else colour_weight
        )
        self.threshold = self.colour.threshold if threshold is None else threshold
        self.seen_photos = self.colour.seen_photos | self.grey.seen_photos

    def _mix(self, colour_p: np.ndarray, grey_p: np.ndarray) -> np.ndarray:
        return self.colour_weight * colour_p + (1 - self.colour_weight) * grey_p

    def face_probability(self, faces: AnnotatedFaces) -> np.ndarray:
        """P(mask) of annotated photo faces (colour photos)."""
        return self._mix(self.colour.face_probability(faces), self.grey.face_probability(faces))

    def detect(
        self, image: np.ndarray, detections: list[Detection], framing: Framing, grey_crops: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(P(mask), masked) for each face of ``image`` (``grey_crops``: its faces already cropped in grey)."""
        if not detections:
            return np.zeros(0, np.float32), np.zeros(0, bool)
        grey_crops = grey_crops if grey_crops is not None else crop_faces(image, detections, framing)
        grey_p = self.grey.mask_probability(grey_crops)
        if is_grey(image):
            return grey_p, grey_p >= self.grey.threshold
        p = self._mix(self.colour.mask_probability(crop_faces(image, detections, framing, colour=True)), grey_p)
        return p, p >= self.threshold


def colour_alone(threads: int = 0) -> MaskDetector:
    """The colour classifier without the grey one, at the threshold its validation photos chose for it alone."""
    det = MaskDetector(threads, colour_weight=1.0)
    det.threshold = float(det.colour.card.get("threshold_by_colour_weight", {}).get("1", det.threshold))
    return det


def is_grey(image: np.ndarray) -> bool:
    """True for a one-channel image or a colour image whose channels are equal (checked on a pixel grid)."""
    if image.ndim == 2 or image.shape[2] == 1:
        return True
    step = max(1, min(image.shape[:2]) // 64)
    s = image[::step, ::step].astype(np.int16)
    return bool(np.abs(s[..., 0] - s[..., 1]).max() <= 2 and np.abs(s[..., 1] - s[..., 2]).max() <= 2)
