"""Torch checkpoints -> ONNX, and a torch-backed classifier with the same interface (needs torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ferkit.config import CLASSIFY_BATCH, FACE_SIZE
from ferkit.errors import FerkitError
from ferkit.face.preprocess import as_nchw

from .nets import WithPreprocessing
from .registry import create_model, model_file_name


def load_checkpoint(path: str | Path):
    """The ``WithPreprocessing`` torch model (softmax output) and its class count from a ``ferkit train``
    checkpoint: the net its hyper-parameters name, with the checkpoint's weights (Lightning not needed)."""
    if not Path(path).is_file():
        raise FerkitError(f"{path}: no such checkpoint")
    ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    hp = ckpt.get("hyper_parameters") or {}
    if "model_name" not in hp or "state_dict" not in ckpt:
        raise FerkitError(f"{path}: not a ferkit training checkpoint (no model name or weights)")
    in_chans = hp.get("in_chans", 1)
    net = create_model(hp["model_name"], num_classes=hp["num_classes"], in_chans=in_chans)
    prefix = "model.net."
    net.load_state_dict({k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)})
    return WithPreprocessing(net, softmax=True, in_chans=in_chans).eval(), hp["num_classes"]


def export_onnx(model: torch.nn.Module, out: str | Path, opset: int = 17) -> Path:
    """Export a model taking (N, C, 48, 48) raw pixels (C: the model's ``in_chans``, 1 for grey) to ONNX with a
    dynamic batch axis."""
    from ferkit.utils.io import atomic_path

    out = Path(out)
    with atomic_path(out) as tmp:
        torch.onnx.export(
            model.eval(),
            torch.rand(2, getattr(model, "in_chans", 1), FACE_SIZE, FACE_SIZE) * 255,
            str(tmp),
            input_names=["faces"],
            output_names=["probabilities"],
            dynamic_axes={"faces": {0: "n"}, "probabilities": {0: "n"}},
            opset_version=opset,
            dynamo=False,
        )
    return out


class TorchClassifier:
    """A checkpoint used directly: ``predict_proba`` like ``ExpressionClassifier``."""

    def __init__(self, checkpoint: str | Path, classes: tuple[str, ...], device: str = "cpu"):
        self.model, _ = load_checkpoint(checkpoint)
        self.model.to(device)
        self.device, self.batch = torch.device(device), CLASSIFY_BATCH if device == "cpu" else 4 * CLASSIFY_BATCH
        self.name, self.classes = model_file_name(checkpoint), classes

    @torch.no_grad()
    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(as_nchw(faces))
        out = [self.model(x[i : i + self.batch].to(self.device)).float().cpu() for i in range(0, len(x), self.batch)]
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.classes)), np.float32)


def halve_weights(src: str | Path, out: str | Path, min_elements: int = 1024) -> Path:
    """A copy of an fp32 ONNX model whose large weights are stored in fp16, each cast back to fp32 when the
    session loads (constant folding): half the file, fp32 arithmetic on every execution provider."""
    import onnx
    from onnx import helper, numpy_helper

    from ferkit.utils.io import atomic_path

    m = onnx.load(str(src))
    g = m.graph
    casts = []
    for init in list(g.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or np.prod(init.dims) < min_elements:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16")
        g.initializer.remove(init)
        g.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    for i, node in enumerate(casts):
        g.node.insert(i, node)
    with atomic_path(Path(out)) as tmp:
        onnx.save(m, str(tmp))
    return Path(out)
