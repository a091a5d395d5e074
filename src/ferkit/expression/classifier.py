"""Expression classification with ONNX Runtime: shipped models, batched, no torch needed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ferkit.config import CLASSIFY_BATCH, DEFAULT_MODEL, DEFAULT_PRECISION, EMOTIONS, MODELS_DIR
from ferkit.errors import UnknownNameError
from ferkit.face.preprocess import as_nchw
from ferkit.utils.onnx import ort_session

from .registry import model_card, model_file_name, shipped_models


def model_onnx_path(name: str = "default", precision: str = "fp32") -> Path:
    """The ONNX file of a shipped model (its int8 copy for ``precision='int8'`` where it ships one, else fp32) or
    ``name`` itself when it is an ``.onnx`` path."""
    if precision not in ("fp32", "int8"):
        raise UnknownNameError(f"unknown precision {precision!r}: fp32 or int8")
    name = DEFAULT_MODEL if name == "default" else name
    if Path(name).suffix == ".onnx":
        return Path(name)
    if name not in shipped_models():
        raise UnknownNameError(
            f"unknown or untrained model {name!r}; shipped models: "
            f"{', '.join(shipped_models()) or 'none'} (or pass an exported .onnx path)"
        )
    int8 = MODELS_DIR / name / "model_int8.onnx"
    return int8 if precision == "int8" and int8.is_file() else MODELS_DIR / name / "model.onnx"


class ExpressionClassifier:
    """A trained expression model: ``predict_proba(faces)`` on (N, 48, 48) uint8 grey crops -> (N, C) probabilities.

    ``name`` is a shipped model (``ferkit models``) or a path to an exported ``.onnx`` file (its classes are read
    from a ``card.json`` beside it, if there is one; the 7 FER2013 classes otherwise)."""

    def __init__(
        self,
        name: str = "default",
        threads: int = 0,
        batch_size: int = CLASSIFY_BATCH,
        precision: str = DEFAULT_PRECISION,
    ):
        path = model_onnx_path(name, precision)  # models shipped without an int8 copy run in fp32
        if Path(name).suffix == ".onnx":
            card = path.parent / "card.json"
            self.name = model_file_name(path)
            self.card = json.loads(card.read_text()) if card.is_file() else {"classes": list(EMOTIONS)}
        else:  # a shipped model: its folder is its name
            self.name, self.card = path.parent.name, model_card(path.parent.name)
        self.precision = "int8" if path.name.endswith("_int8.onnx") else "fp32"
        self.path = path
        self.session = ort_session(path, threads)
        self.input = self.session.get_inputs()[0].name
        self.classes: tuple[str, ...] = tuple(self.card.get("classes", EMOTIONS))
        self.batch_size = batch_size

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        x = as_nchw(faces)
        out = [
            self.session.run(None, {self.input: x[i : i + self.batch_size]})[0]
            for i in range(0, len(x), self.batch_size)
        ]
        return np.concatenate(out)

    def predict(self, faces: np.ndarray) -> np.ndarray:
        return self.predict_proba(faces).argmax(1)
