"""Paper 003's backbones (timm architectures, trained from scratch: no pretrained weights exist offline)."""
from __future__ import annotations

import timm
import torch
from torch import nn

#: Paper 003's seven backbones, by timm name.
PAPER003_BACKBONES = ("vgg16", "densenet121", "efficientnet_b0", "resnet34", "seresnet34", "resnext50_32x4d",
                      "seresnext50_32x4d")


class PooledBackbone(nn.Module):
    """A timm network's convolutional trunk, global average pooling and a linear classifier.

    ``features(x)`` gives the pooled feature vector that EmoXNet (paper 003) concatenates across backbones.
    For VGG16 the trunk is its conv layers only (as Keras' ``include_top=False``), not timm's 4096-wide head."""

    def __init__(self, name: str, num_classes: int = 7, in_chans: int = 1):
        super().__init__()
        if name.startswith("vgg"):
            net = timm.create_model(name, pretrained=False, in_chans=in_chans)
            self.trunk = nn.Sequential(net.features, nn.AdaptiveAvgPool2d(1), nn.Flatten())
            width = net.features[-3].out_channels if isinstance(net.features[-3], nn.Conv2d) else 512
        else:
            self.trunk = timm.create_model(name, pretrained=False, in_chans=in_chans, num_classes=0, global_pool="avg")
            width = self.trunk.num_features
        self.num_features = width
        self.classifier = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.trunk(x))
