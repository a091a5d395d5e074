"""PyTorch architectures of ferkit's own expression models (the paper models live in their own modules)."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv -> BatchNorm -> ReLU, 'same' padding."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class VGGLike(nn.Module):
    """Small VGG-style CNN for 48x48 grey faces: a stem, then stages of two conv-BN-ReLU and a 2x2 max-pool,
    global average pooling, dropout and a linear classifier. ``stem``: "pool" (a conv and a 2x2 max-pool),
    "stride2" (one strided conv) or "s2d" (space-to-depth, then a conv): the same output size for a quarter of the
    stem's work at full resolution, where an int8 model spends a fifth of its time on 1% of its MACs."""

    def __init__(
        self,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        num_classes: int = 7,
        in_chans: int = 1,
        dropout: float = 0.3,
        stem: str = "pool",
    ):
        super().__init__()
        if stem not in ("pool", "stride2", "s2d"):
            raise ValueError(f"unknown stem {stem!r}: pool, stride2 or s2d")
        if stem == "stride2":
            layers: list[nn.Module] = [conv_bn(in_chans, widths[0], stride=2)]
        elif stem == "s2d":  # lossless: each 2x2 block of pixels becomes 4 channels
            layers = [nn.PixelUnshuffle(2), conv_bn(4 * in_chans, widths[0])]
        else:
            layers = [conv_bn(in_chans, widths[0]), nn.MaxPool2d(2)]
        cin = widths[0]
        for w in widths[1:]:
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers[:-1])  # no pool after the last stage
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin, num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


#: Pixel normalisation applied inside every ferkit model: inputs are grey levels 0..255.
PIXEL_MEAN, PIXEL_STD = 128.0, 64.0


class WithPreprocessing(nn.Module):
    """Wraps a classifier so it takes raw 0..255 pixels and, if ``softmax``, returns probabilities.
    This is the form exported to ONNX, so inference code only resizes and batches."""

    def __init__(self, net: nn.Module, softmax: bool = True, in_chans: int = 1):
        super().__init__()
        self.net, self.softmax, self.in_chans = net, softmax, in_chans

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.net((x - PIXEL_MEAN) / PIXEL_STD)
        return logits.softmax(-1) if self.softmax else logits
