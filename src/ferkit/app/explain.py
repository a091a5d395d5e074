"""``ferkit explain``: Grad-CAM heat maps of the predicted class for every face of an image."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ferkit.detection import create_detector
from ferkit.errors import BadInputError
from ferkit.expression.classifier import model_onnx_path
from ferkit.expression.explain import OnnxCAM, grad_cam_torch
from ferkit.face.preprocess import Framing, crop_faces
from ferkit.utils.io import read_image, write_image_atomic, write_json_atomic

TILE = 192


def cam_function(model: str = "default"):
    """A callable faces -> (maps, probabilities) for a shipped name, an ``.onnx`` file or a training ``.ckpt``."""
    if model.endswith(".ckpt"):
        from ferkit.expression.export import load_checkpoint

        net, _ = load_checkpoint(model)
        net.softmax = False  # Grad-CAM differentiates the class score (logit), not its probability
        return lambda faces: grad_cam_torch(net, faces)
    path = model_onnx_path(model, "fp32")  # CAM reads the float weights of the linear head
    if not path.is_file():
        raise BadInputError(f"{model}: no such .onnx file")
    return OnnxCAM(path)


def overlay(face: np.ndarray, heat: np.ndarray, label: str) -> np.ndarray:
    """A TILE x TILE BGR picture: the grey face under a JET heat map, with ``label`` on top."""
    grey = cv2.resize(face, (TILE, TILE), interpolation=cv2.INTER_CUBIC)
    colour = cv2.applyColorMap((cv2.resize(heat, (TILE, TILE)) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    img = cv2.addWeighted(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), 0.55, colour, 0.45, 0)
    cv2.rectangle(img, (0, 0), (TILE, 18), (0, 0, 0), -1)
    cv2.putText(img, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def grid(tiles: list[np.ndarray], per_row: int = 8) -> np.ndarray:
    """Tiles in rows of ``per_row`` (the last row padded with black)."""
    rows = []
    for i in range(0, len(tiles), per_row):
        row = tiles[i : i + per_row]
        row += [np.zeros_like(tiles[0])] * (min(per_row, len(tiles)) - len(row))
        rows.append(np.hstack(row))
    return np.vstack(rows)


def explain_image(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    model: str = "default",
    detector: str = "default",
    per_face: bool = True,
) -> list[dict]:
    """Write ``<stem>_gradcam.png`` (every face's heat map, in rows of 8), ``<stem>_gradcam.json`` and, with
    ``per_face``, ``<stem>_face<i>_gradcam.png``; returns the records (box, emotion, probability, heat-map centre of
    mass in 0..1 of the face crop)."""
    img = read_image(source)
    det = create_detector(detector)
    faces = det.detect(img)
    stem, out = Path(source).stem, Path(out_dir)
    crops = crop_faces(img, faces, Framing.of(det.name, template=True)) if faces else np.zeros((0, 48, 48), np.uint8)
    records, tiles = [], []
    if len(crops):
        from ferkit.config import EMOTIONS

        maps, probs = cam_function(model)(crops)
        ys, xs = np.mgrid[0 : maps.shape[1], 0 : maps.shape[2]]
        for i, (f, m, p) in enumerate(zip(faces, maps, probs)):
            c = int(p.argmax())
            tile = overlay(crops[i], m, f"{EMOTIONS[c]} {p[c]:.0%}")
            if per_face:
                write_image_atomic(out / f"{stem}_face{i}_gradcam.png", tile)
            tiles.append(tile)
            w = m.sum() or 1.0
            records.append(
                {
                    "face": i,
                    "box": [round(float(v), 1) for v in f.box],
                    "emotion": EMOTIONS[c],
                    "probability": round(float(p[c]), 4),
                    "heat_centre": [
                        round(float((xs * m).sum() / w / m.shape[1]), 3),
                        round(float((ys * m).sum() / w / m.shape[0]), 3),
                    ],
                }
            )
        g = grid(tiles)
        write_image_atomic(
            out / f"{stem}_gradcam.png",
            cv2.resize(g, (g.shape[1] * 2 // 3, g.shape[0] * 2 // 3), interpolation=cv2.INTER_AREA),
        )
    write_json_atomic(out / f"{stem}_gradcam.json", records)
    return records
