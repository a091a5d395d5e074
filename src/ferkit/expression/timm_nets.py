"""Paper 003's backbones (timm architectures, trained from scratch: no pretrained weights exist offline)."""

from __future__ import annotations

import timm
import torch
from torch import nn

#: Paper 003's seven backbones, by timm name.
PAPER003_BACKBONES = (
    "vgg16",
    "densenet121",
    "efficientnet_b0",
    "resnet34",
    "seresnet34",
    "resnext50_32x4d",
    "seresnext50_32x4d",
)


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


class EmoXNet(nn.Module):
    """Paper 003's EmoXNet: the pooled features of several backbones concatenated, then an MLP meta-classifier
    (softmax applied outside, like every ferkit model). ``freeze_members`` keeps trained members fixed, so only
    the head learns (the paper's second stage)."""

    def __init__(
        self,
        backbones: tuple[str, ...] = PAPER003_BACKBONES,
        num_classes: int = 7,
        in_chans: int = 1,
        hidden: int = 512,
        dropout: float = 0.5,
        members: list[PooledBackbone] | None = None,
        freeze_members: bool = False,
    ):
        super().__init__()
        self.members = nn.ModuleList(members or [PooledBackbone(b, num_classes, in_chans) for b in backbones])
        self.freeze_members = freeze_members
        if freeze_members:
            for p in self.members.parameters():
                p.requires_grad_(False)
        width = sum(m.num_features for m in self.members)
        self.head = nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
        )

    def train(self, mode: bool = True) -> "EmoXNet":
        super().train(mode)
        if self.freeze_members:  # frozen members keep their batch-norm statistics too
            self.members.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([m.features(x) for m in self.members], dim=1))
