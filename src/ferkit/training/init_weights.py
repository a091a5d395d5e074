"""Start a training run from trained weights (``ferkit train --init``): a checkpoint of the same architecture, or a
shipped / exported ONNX model whose batch norms the exporter folded into its convolutions.

Unfolding: each convolution takes the ONNX weights; its batch norm is set so that it passes the convolution's
output through unchanged (scale sqrt(var + eps), shift bias + mean) with ``mean`` / ``var`` measured on calibration
faces, so the net computes the ONNX model's function in eval mode exactly and, in train mode, on batches that
look like the calibration faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ferkit.errors import FerkitError
from ferkit.expression.registry import weights_label

#: Largest difference of probabilities allowed between the initialised net and its ONNX source.
INIT_TOLERANCE = 1e-3


def _onnx_layers(path: Path) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(op, weight, bias) of every Conv and Gemm node of an ONNX file, in graph order."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    layers = []
    for node in graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Gemm" and not attrs.get("transB", 0):
            raise FerkitError(f"{path}: a Gemm without transB is not a torch Linear layer")
        w = init.get(node.input[1])
        if w is None:
            raise FerkitError(f"{path}: {node.op_type} {node.name} has no stored weights")
        layers.append((node.op_type, w, init.get(node.input[2]) if len(node.input) > 2 else None))
    return layers


def _torch_layers(net: nn.Module) -> list[tuple[nn.Module, nn.BatchNorm2d | None]]:
    """Every Conv2d (with the BatchNorm2d that follows it, if any) and Linear of ``net``, in definition order."""
    mods = list(net.modules())
    out = []
    for i, m in enumerate(mods):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            out.append((m, nxt if isinstance(m, nn.Conv2d) and isinstance(nxt, nn.BatchNorm2d) else None))
    return out


@torch.no_grad()
def init_from_onnx(model: nn.Module, path: str | Path, faces: np.ndarray) -> None:
    """Load the ONNX model at ``path`` into ``model`` (a ``WithPreprocessing`` net taking raw pixels, the form
    ferkit exports), unfolding batch norms with statistics measured on ``faces`` ((N, H, W) or (N, H, W, C)
    uint8); checked against ONNX Runtime on those faces."""
    from ferkit.face.preprocess import as_nchw
    from ferkit.utils.onnx import ort_session

    path = Path(path)
    src, dst = _onnx_layers(path), _torch_layers(model)
    shapes = [tuple(w.shape) for _, w, _ in src], [tuple(m.weight.shape) for m, _ in dst]
    if shapes[0] != shapes[1]:
        raise FerkitError(f"{path}: its layers {shapes[0]} do not fit the architecture's {shapes[1]}")
    for (_, w, b), (m, bn) in zip(src, dst):
        m.weight.copy_(torch.from_numpy(np.array(w)))
        bias = torch.from_numpy(np.array(b)) if b is not None else torch.zeros(w.shape[0])
        if bn is not None:  # identity statistics for now: eval mode computes conv + bias
            bn.running_mean.zero_(), bn.running_var.fill_(1.0)
            bn.weight.fill_(float(np.sqrt(1.0 + bn.eps))), bn.bias.copy_(bias)
        elif m.bias is not None:
            m.bias.copy_(bias)
        elif b is not None and np.any(b):
            raise FerkitError(f"{path}: a layer with a bias where the architecture has none")
    x = torch.from_numpy(as_nchw(faces)).float()
    stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [
        m.register_forward_hook(lambda mod, _, y: stats.__setitem__(mod, (y.mean((0, 2, 3)), y.var((0, 2, 3)))))
        for m, bn in dst
        if bn is not None
    ]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    for m, bn in dst:
        if bn is not None:  # the same function, with the statistics the conv output really has
            mean, var = stats[m]
            bn.bias.add_(mean)
            bn.running_mean.copy_(mean), bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
    out = model(x)
    ours = (out if getattr(model, "softmax", False) else out.softmax(-1)).numpy()
    sess = ort_session(path)
    ref = sess.run(None, {sess.get_inputs()[0].name: as_nchw(faces)})[0]
    model.train(was_training)
    if ref.shape != ours.shape:
        raise FerkitError(f"{path}: gives outputs of shape {ref.shape[1:]}, the architecture {ours.shape[1:]}")
    if np.abs(ref - ours).max() > INIT_TOLERANCE:
        raise FerkitError(
            f"{path}: the initialised net does not reproduce the ONNX model "
            f"(largest probability difference {np.abs(ref - ours).max():.2g})"
        )


def init_weights(model: nn.Module, source: str, faces: np.ndarray) -> str:
    """Fill ``model`` from ``source``: a shipped model name, an ``.onnx`` file or a training checkpoint of the same
    architecture. Returns its label (``weights_label``)."""
    if Path(source).suffix == ".ckpt":
        if not Path(source).is_file():
            raise FerkitError(f"{source}: no such checkpoint")
        state = torch.load(source, map_location="cpu", weights_only=False)["state_dict"]
        own = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
        missing = set(model.state_dict()) ^ set(own)
        if missing or any(own[k].shape != v.shape for k, v in model.state_dict().items()):
            raise FerkitError(f"{source}: its weights do not fit the architecture")
        model.load_state_dict(own)
        return weights_label(source)
    from ferkit.expression.classifier import model_onnx_path

    path = model_onnx_path(source, "fp32")
    if not path.is_file():
        raise FerkitError(f"{path}: no such ONNX file")
    init_from_onnx(model, path, faces)
    return weights_label(str(path))
