"""Torch checkpoints -> ONNX, and a torch-backed classifier with the same interface (needs torch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..config import CLASSIFY_BATCH, FACE_SIZE
from ..errors import FerkitError
from .nets import WithPreprocessing
from .preprocess import as_nchw
from .registry import model_file_name


def load_checkpoint(path: str | Path):
    """The ``WithPreprocessing`` torch model (softmax output) and its class count from a training checkpoint."""
    from ..training.module import ExpressionModule
    if not Path(path).exists():
        raise FerkitError(f"{path}: no such checkpoint")
    module = ExpressionModule.load_from_checkpoint(str(path), map_location="cpu")
    model = WithPreprocessing(module.model.net, softmax=True, in_chans=module.hparams.get("in_chans", 1)).eval()
    return model, module.hparams.num_classes


def export_onnx(model: torch.nn.Module, out: str | Path, opset: int = 17) -> Path:
    """Export a model taking (N, C, 48, 48) raw pixels (C: the model's ``in_chans``, 1 for grey) to ONNX with a
    dynamic batch axis."""
    from ..io import atomic_path
    out = Path(out)
    with atomic_path(out) as tmp:
        torch.onnx.export(model.eval(), torch.rand(2, getattr(model, "in_chans", 1), FACE_SIZE, FACE_SIZE) * 255, str(tmp),
                          input_names=["faces"], output_names=["probabilities"],
                          dynamic_axes={"faces": {0: "n"}, "probabilities": {0: "n"}}, opset_version=opset, dynamo=False)
    return out


class TorchClassifier:
    """A checkpoint used directly: ``predict_proba`` like ``ExpressionClassifier``."""

    def __init__(self, checkpoint: str | Path, classes: tuple[str, ...]):
        self.model, _ = load_checkpoint(checkpoint)
        self.name, self.classes = model_file_name(checkpoint), classes

    @torch.no_grad()
    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(as_nchw(faces))
        return torch.cat([self.model(x[i:i + CLASSIFY_BATCH]) for i in range(0, len(x), CLASSIFY_BATCH)]).numpy()
