"""dlib's 128-d face embeddings (ResNet trained for face verification, 99.38% on LFW per dlib): each face is
aligned by dlib's 5-point shape predictor into a 150x150 chip first; with ``mirror`` (config ``IDENTITY_MIRROR``)
its embedding is the mean of the chip's and its mirror image's. With a ``texture`` weight (config
``IDENTITY_TEXTURE``), the face box's LBP histograms (``texture.py``), times the weight, are appended to it."""

from __future__ import annotations

import numpy as np

from ferkit.config import IDENTITY_MIRROR, IDENTITY_TEXTURE
from ferkit.utils.dlib_models import dlib_model_path, load_dlib, shape_predictor

from .texture import N_BINS, face_texture

EMBEDDING_DIM = 128
#: Faces smaller than this (box side, px) are upscaled before alignment: dlib's predictor needs some pixels.
MIN_SIDE = 80


def texture_dim(texture: dict) -> int:
    """Length of the texture part of an embedding (0 when its weight is 0)."""
    return texture["grid"] ** 2 * N_BINS if texture["weight"] else 0


class DlibEmbedder:
    """``embed(image_bgr, boxes)`` -> (N, dim) float32, one row per [x1, y1, x2, y2] box: dlib's 128 values, then
    the weighted texture descriptor (``texture``: weight, size, grid; none with weight 0)."""

    name = "dlib_resnet_v1"

    def __init__(
        self, chip_size: int = 150, padding: float = 0.25, mirror: bool = IDENTITY_MIRROR, texture: dict | None = None
    ):
        self.dlib = load_dlib()
        self.net = self.dlib.face_recognition_model_v1(
            str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat"))
        )
        self.chip_size, self.padding, self.mirror = chip_size, padding, mirror
        self.texture = dict(IDENTITY_TEXTURE if texture is None else texture)

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM + texture_dim(self.texture)

    @property
    def n_views(self) -> int:
        """Views embedded per face: the chip, and its mirror image with ``mirror``."""
        return 2 if self.mirror else 1

    @property
    def description(self) -> str:
        t = self.texture
        texture = f" + LBP {t['grid']}x{t['grid']} cells of {t['size']} px x {t['weight']}" if t["weight"] else ""
        return f"{self.name}{', mirror-averaged' if self.mirror else ''}{texture}"

    def chips(self, image: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
        """Aligned RGB chips of the faces in ``boxes``."""
        import cv2

        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        out = []
        for box in np.asarray(boxes, np.float64).reshape(-1, 4):
            side = max(box[2] - box[0], box[3] - box[1], 1.0)
            s = max(1.0, MIN_SIDE / side)
            img = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC) if s > 1 else rgb
            x1, y1, x2, y2 = (box * s).round().astype(int)
            shape = shape_predictor(5)(img, self.dlib.rectangle(int(x1), int(y1), int(x2), int(y2)))
            out.append(np.asarray(self.dlib.get_face_chip(img, shape, self.chip_size, self.padding)))
        return out

    def embed_views(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(V, N, 128): the embedding of each face's chip, and with ``mirror`` of its mirror image (V = 2)."""
        chips = self.chips(image, boxes)
        if self.mirror:
            chips += [np.ascontiguousarray(c[:, ::-1]) for c in chips]
        if not chips:
            return np.zeros((self.n_views, 0, EMBEDDING_DIM), np.float32)
        return np.asarray(self.net.compute_face_descriptor(chips), np.float32).reshape(self.n_views, -1, EMBEDDING_DIM)

    def textures(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, grid * grid * 59): the faces' LBP descriptors, unweighted."""
        return face_texture(image, boxes, self.texture["size"], self.texture["grid"])

    def embed(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, dim): one embedding per face (the mean of its views, then its weighted texture)."""
        w = self.texture["weight"]
        return combine(self.embed_views(image, boxes).mean(0), self.textures(image, boxes) if w else None, w)


def combine(dlib_part: np.ndarray, texture: np.ndarray | None, weight: float) -> np.ndarray:
    """The embedding: dlib's values, then ``weight`` times the texture descriptor (dlib's alone at weight 0, where
    ``texture`` may be None)."""
    return np.concatenate([dlib_part, weight * texture], 1).astype(np.float32) if weight else dlib_part
