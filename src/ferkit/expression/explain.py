"""Grad-CAM (Selvaraju et al. 2017): where on the face the predicted class comes from.

- Any torch CNN (registry model or training checkpoint): A is the last feature map with a spatial extent that the
  forward pass produces (the input of the global pooling); map = ReLU(sum_k a_k A_k) with a_k the spatial mean
  of d logit_c / d A_k.
- A shipped ONNX model whose head is global average pooling + a linear layer (every ferkit CNN): there
  d logit_c / d A_k = W[c, k] / (H W) everywhere, so Grad-CAM equals CAM = ReLU(sum_k W[c, k] A_k), computed with ONNX
  Runtime from the last feature map (no torch needed).
Maps are upsampled to the face size and scaled to 0..1 (an all-zero map stays zero)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferkit.errors import FerkitError


def _normalise(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = np.stack([cv2.resize(m.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_CUBIC) for m in maps])
    out = np.clip(out, 0, None)
    peak = out.reshape(len(out), -1).max(1)
    return out / np.where(peak > 0, peak, 1)[:, None, None]


def grad_cam_torch(model, faces: np.ndarray, layer=None) -> tuple[np.ndarray, np.ndarray]:
    """(maps (N, H, W) in 0..1, probabilities (N, C)) for uint8 faces (N, H, W); ``model`` maps raw 0..255 pixels
    (N, 1, H, W) to logits or probabilities (e.g. ``WithPreprocessing``)."""
    import torch

    saved: dict = {}

    def keep(module, inputs, output):
        if isinstance(output, torch.Tensor) and output.dim() == 4 and output.shape[2] * output.shape[3] > 1:
            saved["a"] = output  # the last one wins: the deepest spatial feature map

    targets = [layer] if layer is not None else [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(keep) for m in targets]
    try:
        x = torch.from_numpy(np.ascontiguousarray(faces, np.float32))[:, None]
        model.eval()
        with torch.enable_grad():
            out = model(x)
            target = out.argmax(1)
            if "a" not in saved:
                raise FerkitError("Grad-CAM needs a CNN: the model produced no spatial feature map")
            a = saved["a"]
            grads = torch.autograd.grad(out.gather(1, target[:, None]).sum(), a)[0]
        cam = torch.relu((grads.mean((2, 3), keepdim=True) * a).sum(1)).detach().numpy()
        probs = out.detach()
        probs = probs if torch.allclose(probs.sum(1), torch.ones(len(probs)), atol=1e-3) else probs.softmax(1)
    finally:
        for h in handles:
            h.remove()
    return _normalise(cam, faces.shape[1:3]), probs.numpy()


class OnnxCAM:
    """CAM (= Grad-CAM for a GAP + linear head) of an ONNX classifier with ``faces`` input, softmax output."""

    def __init__(self, onnx_path: str | Path):
        try:
            import onnx
        except ImportError as e:
            raise FerkitError("Grad-CAM of an ONNX model needs the onnx package: pip install 'ferkit[train]'") from e
        import onnxruntime as ort
        from onnx import numpy_helper

        m = onnx.load(str(onnx_path))
        inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        gemm = next((n for n in m.graph.node if n.op_type in ("Gemm", "MatMul")), None)
        gap = next((n for n in m.graph.node if n.op_type == "GlobalAveragePool"), None)
        if gemm is None or gap is None or gemm.input[1] not in inits:
            raise FerkitError(
                f"{onnx_path}: no global-average-pool + linear head; use Grad-CAM on its training checkpoint"
            )
        w = inits[gemm.input[1]]
        trans_b = any(a.name == "transB" and a.i == 1 for a in gemm.attribute)
        self.weights = w if (gemm.op_type == "Gemm" and trans_b) else w.T  # (classes, channels)
        feature = gap.input[0]
        m.graph.output.append(onnx.helper.make_tensor_value_info(feature, onnx.TensorProto.FLOAT, None))
        self.session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        self.input = m.graph.input[0].name
        self.outputs = [m.graph.output[0].name, feature]

    def __call__(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, feats = self.session.run(self.outputs, {self.input: np.asarray(faces, np.float32)[:, None]})
        w = self.weights[probs.argmax(1)]  # (N, K)
        cam = np.einsum("nk,nkhw->nhw", w, feats)
        return _normalise(cam, faces.shape[1:3]), probs
