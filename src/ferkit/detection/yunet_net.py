"""YuNet's network in PyTorch (libfacedetection's ``objectdetect_cnn``; needs the ``train`` extra): used to export
libfacedetection's weights to ONNX (scripts/export_yunet.py) and to fine-tune them (``ferkit train-detector
--model yunet``). It takes a (1, H, W, 3) uint8 BGR image, H and W multiples of 32, and returns, for strides 8, 16
and 32 (and 4, with ``stride4``), the raw maps cls (1), bbox (4), obj (1), kps (10) that ``ferkit.detection.yunet``
decodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .yunet import STRIDES


def output_names(levels: int) -> list[str]:
    """Output names of the ONNX file, level by level (finest first)."""
    return [f"{k}{i}" for i in range(levels) for k in ("cls", "bbox", "obj", "kps")]


class PointDepth(nn.Module):
    """libfacedetection's unit: 1x1 conv, then 3x3 depthwise conv (both with bias), then ReLU if ``relu``."""

    def __init__(self, cin: int, cout: int, relu: bool = True):
        super().__init__()
        self.pw, self.dw, self.relu = nn.Conv2d(cin, cout, 1), nn.Conv2d(cout, cout, 3, padding=1, groups=cout), relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(self.pw(x))
        return F.relu(x) if self.relu else x


class YuNetNet(nn.Module):
    """Backbone (a 3x3 stride-2 conv, then point/depthwise units and 2x2 max-pools), a top-down neck over strides
    8/16/32, and per-level heads for class, box, objectness and 5 landmarks. ``stride4``: ferkit's extra level for
    small faces, the neck carried down onto the backbone's stride-4 features (``p4_lateral``, ``p4_heads``: see
    ``add_stride4``)."""

    WIDTHS = ((16, 16, 32), (32, 32, 64), (64, 64, 64), (64, 64, 64), (64, 64, 64))
    HEADS = (("cls", 1), ("bbox", 4), ("obj", 1), ("kps", 10))

    def __init__(self, stride4: bool = False):
        super().__init__()
        self.stride4 = stride4
        if stride4:
            self.p4_lateral = PointDepth(64, 64)
            self.p4_heads = nn.ModuleList(PointDepth(64, n, relu=False) for _, n in self.HEADS)
        self.stem = nn.Conv2d(3, 16, 3, 2, 1)
        self.stem_dp = PointDepth(16, 16)
        self.stages = nn.ModuleList(nn.Sequential(PointDepth(a, b), PointDepth(b, c)) for a, b, c in self.WIDTHS)
        self.lateral = nn.ModuleList(PointDepth(64, 64) for _ in range(3))
        self.heads = nn.ModuleList(nn.ModuleList(PointDepth(64, n, relu=False) for _, n in self.HEADS) for _ in STRIDES)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = image.permute(0, 3, 1, 2).float()
        x = F.max_pool2d(self.stem_dp(F.relu(self.stem(x))), 2)
        f4 = self.stages[1](self.stages[0](x))
        f8 = self.stages[2](F.max_pool2d(f4, 2))
        f16 = self.stages[3](F.max_pool2d(f8, 2))
        f32 = self.lateral[2](self.stages[4](F.max_pool2d(f16, 2)))
        f16 = self.lateral[1](F.interpolate(f32, scale_factor=2.0, mode="nearest") + f16)
        f8 = self.lateral[0](F.interpolate(f16, scale_factor=2.0, mode="nearest") + f8)
        outs = tuple(head(f) for level, f in enumerate((f8, f16, f32)) for head in self.heads[level])
        if not self.stride4:
            return outs
        f4 = self.p4_lateral(F.interpolate(f8, scale_factor=2.0, mode="nearest") + f4)
        return tuple(head(f4) for head in self.p4_heads) + outs

    @property
    def strides(self) -> tuple[int, ...]:
        return ((4,) if self.stride4 else ()) + STRIDES


def has_stride4(weights) -> bool:
    """Whether a state dict (or an ONNX file's weights by name) holds the stride-4 level."""
    return "p4_lateral.pw.weight" in weights


def add_stride4(net: YuNetNet) -> YuNetNet:
    """A stride-4 copy of a 3-level ``net``: the same weights, the new level's neck unit and heads starting as
    copies of the stride-8 ones (the regression is in units of the stride, so they begin by proposing faces half
    the size); the 8/16/32 outputs are unchanged."""
    new = YuNetNet(stride4=True)
    new.load_state_dict(net.state_dict(), strict=False)
    new.p4_lateral.load_state_dict(net.lateral[0].state_dict())
    for head, src in zip(new.p4_heads, net.heads[0]):
        head.load_state_dict(src.state_dict())
    return new


def load_onnx_weights(path: str | Path) -> YuNetNet:
    """A ``YuNetNet`` holding the weights of an ONNX file this module exported (initializers named as its
    parameters; the exporter turns a parameter equal to another into an Identity of it)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    net = YuNetNet(stride4=has_stride4(weights))
    net.load_state_dict({k: weights[k] for k in net.state_dict()})
    return net


def export_onnx(net: YuNetNet, path: str | Path) -> None:
    """Write ``net`` to ``path`` (dynamic height and width; opset 17)."""
    net.eval()
    torch.onnx.export(
        net,
        torch.zeros(1, 480, 640, 3, dtype=torch.uint8),
        str(path),
        input_names=["image"],
        output_names=output_names(len(net.strides)),
        dynamic_axes={"image": {1: "height", 2: "width"}},
        opset_version=17,
        dynamo=False,
    )


def library_weights_into(net: YuNetNet, w: dict[str, np.ndarray]) -> YuNetNet:
    """Fill ``net`` from libfacedetection's exported arrays (symbol name -> flat float32), laid out as the library
    stores them: the first conv as a 1x1 conv over 27 (padded to 32) im2col taps ordered (ky, kx, colour);
    depthwise weights tap-major ([ky * 3 + kx][channel])."""
    first = w["backbone__model0_pw_weight"].reshape(16, 32)[:, :27].reshape(16, 3, 3, 3).transpose(0, 3, 1, 2)
    net.stem.weight.data = torch.from_numpy(np.ascontiguousarray(first))
    net.stem.bias.data = torch.from_numpy(w["backbone__model0_pw_bias"])
    units = [(net.stem_dp, "backbone__model0_dp")]
    units += [(stage[j], f"backbone__model{i + 1}_dp{j + 1}") for i, stage in enumerate(net.stages) for j in range(2)]
    units += [(unit, f"neck__lateral_convs__{i}") for i, unit in enumerate(net.lateral)]
    units += [
        (net.heads[i][h], f"bbox_head__multi_level_{kind}__{i}")
        for i in range(len(STRIDES))
        for h, (kind, _) in enumerate(YuNetNet.HEADS)
    ]
    for unit, name in units:
        cout, cin = unit.pw.weight.shape[:2]
        unit.pw.weight.data = torch.from_numpy(w[f"{name}_pw_weight"].reshape(cout, cin, 1, 1))
        unit.pw.bias.data = torch.from_numpy(w[f"{name}_pw_bias"])
        unit.dw.weight.data = torch.from_numpy(
            np.ascontiguousarray(w[f"{name}_dw_weight"].reshape(9, cout).T).reshape(cout, 1, 3, 3)
        )
        unit.dw.bias.data = torch.from_numpy(w[f"{name}_dw_bias"])
    return net
