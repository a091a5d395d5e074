"""MTCNN (Zhang et al. 2016) face detector: P/R/O-Net cascade run with ONNX Runtime, boxes + 5 landmarks.

Weights: the original MTCNN nets as converted by facenet-pytorch (MIT), exported to ONNX by
``scripts/export_mtcnn.py``; they ship in ``ferkit/assets/detectors/mtcnn``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ferkit.config import DETECTORS_DIR, MTCNN_THRESHOLDS
from ferkit.utils.onnx import ort_session

from .base import Detection, Detector
from .nms import nms


def _square(b: np.ndarray) -> np.ndarray:
    """Boxes made square around their centre (side = the longer side)."""
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    side = np.maximum(w, h)
    out = b.copy()
    out[:, 0] = b[:, 0] + w / 2 - side / 2
    out[:, 1] = b[:, 1] + h / 2 - side / 2
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _regress(b: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return b + reg * np.stack([w, h, w, h], 1)


def _crops(img: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """(N, 3, size, size) float32 crops of ``boxes`` (zero padded outside the image)."""
    h, w = img.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes.astype(np.int64)):
        bw, bh = x2 - x1, y2 - y1
        if bw < 2 or bh < 2:
            continue
        patch = np.zeros((bh, bw, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        if sx2 <= sx1 or sy2 <= sy1:
            continue
        patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = img[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_LINEAR)
    return out.transpose(0, 3, 1, 2)


class MTCNN(Detector):
    """Cascade detector. ``min_face`` in pixels (``None``: 20, or 3% of the shorter side on large images);
    ``thresholds`` are the P/R/O-Net score cut-offs."""

    name = "mtcnn"

    def __init__(
        self,
        min_face: int | None = None,
        thresholds: tuple[float, float, float] = MTCNN_THRESHOLDS,
        factor: float = 0.709,
        threads: int = 0,
    ):
        self.min_face, self.thresholds, self.factor = min_face, thresholds, factor
        d = DETECTORS_DIR / "mtcnn"
        self.pnet, self.rnet, self.onet = (ort_session(d / f"{n}.onnx", threads) for n in ("pnet", "rnet", "onet"))

    def _scales(self, h: int, w: int) -> list[float]:
        min_face = self.min_face or max(20, round(0.03 * min(h, w)))
        m = 12.0 / min_face
        side = min(h, w) * m
        scales = []
        while side >= 12:
            scales.append(m * self.factor ** len(scales))
            side *= self.factor
        return scales

    def _stage1(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        found = []
        for s in self._scales(h, w):
            im = cv2.resize(rgb, (math.ceil(w * s), math.ceil(h * s)), interpolation=cv2.INTER_AREA)
            prob, reg = self.pnet.run(None, {"image": im.transpose(2, 0, 1)[None].astype(np.float32)})
            ys, xs = np.nonzero(prob[0] >= self.thresholds[0])
            if len(ys) == 0:
                continue
            q1 = np.floor((2 * np.stack([xs, ys], 1) + 1) / s)
            q2 = np.floor((2 * np.stack([xs, ys], 1) + 12) / s)
            cand = np.concatenate([q1, q2, prob[0, ys, xs][:, None], reg[0][:, ys, xs].T], 1)
            found.append(cand[nms(cand[:, :4], cand[:, 4], 0.5)])
        if not found:
            return np.zeros((0, 5))
        c = np.concatenate(found)
        c = c[nms(c[:, :4], c[:, 4], 0.7)]
        return np.concatenate([_square(_regress(c[:, :4], c[:, 5:9])), c[:, 4:5]], 1)

    def _refine(self, rgb: np.ndarray, boxes: np.ndarray, net, size: int, thr: float):
        outs = net.run(None, {"image": _crops(rgb, boxes[:, :4], size)})
        keep = outs[0] >= thr
        return boxes[keep], outs[0][keep], [o[keep] for o in outs[1:]]

    def detect(self, image: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        boxes = self._stage1(rgb)
        if len(boxes):
            boxes, score, (reg,) = self._refine(rgb, boxes, self.rnet, 24, self.thresholds[1])
            k = nms(boxes[:, :4], score, 0.7)
            boxes = _square(_regress(boxes[k, :4], reg[k]))
        if not len(boxes):
            return []
        boxes, score, (reg, pts) = self._refine(rgb, np.asarray(boxes), self.onet, 48, self.thresholds[2])
        if not len(boxes):
            return []
        w, h = boxes[:, 2:3] - boxes[:, 0:1], boxes[:, 3:4] - boxes[:, 1:2]
        lms = np.stack([boxes[:, 0:1] + w * pts[:, 0:5], boxes[:, 1:2] + h * pts[:, 5:10]], 2)
        boxes = _regress(boxes[:, :4], reg)
        k = nms(boxes, score, 0.7, mode="min")
        H, W = rgb.shape[:2]
        boxes = np.clip(boxes[k], 0, [W, H, W, H])
        return [
            Detection(b.astype(np.float32), float(s), pts.astype(np.float32))
            for b, s, pts in zip(boxes, score[k], lms[k])
        ]
