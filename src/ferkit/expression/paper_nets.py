"""Expression CNNs described by the five papers, rebuilt from their layer tables (no pretrained weights exist here).

Departures from the papers are named in each docstring; all models output logits (softmax is applied by
``WithPreprocessing`` at export), so a ReLU that a paper puts on its final layer is left out.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet18, resnet34, resnet50

from ferkit.config import FACE_SIZE

from .nets import conv_bn


def _flat_size(features: nn.Module, in_chans: int, side: int = FACE_SIZE) -> int:
    """Number of values ``features`` outputs for one ``side`` x ``side`` input."""
    with torch.no_grad():
        return int(features(torch.zeros(1, in_chans, side, side)).numel())


def _fc_head(
    cin: int, hidden: tuple[int, ...], num_classes: int, dropout: float = 0.0, bn: bool = False
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    for h in hidden:
        layers += [nn.Linear(cin, h)] + ([nn.BatchNorm1d(h)] if bn else []) + [nn.ReLU(inplace=True)]
        layers += [nn.Dropout(dropout)] if dropout else []
        cin = h
    return nn.Sequential(*layers, nn.Linear(cin, num_classes))


class SimpleCNN(nn.Module):
    """Paper 002, Table 4: conv 5x5x64, pool 5/2, conv 3x3x64, pool 3/2, conv 3x3x128, pool 3/2, FC 1024-1024-7."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, 5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(5, 2),
            nn.Conv2d(64, 64, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 128, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.head = _fc_head(_flat_size(self.features, in_chans), (1024, 1024), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DCNN6(nn.Module):
    """Paper 000's DCNN: 3 sets of (2 convs + activations, max-pool, dropout), then 2 fully connected layers,
    he_normal initialisation. The paper gives no widths: 64/128/256 filters, BN after each conv, dropout 0.4/0.5
    and a 128-unit dense layer are ferkit's choices (the common Keras form of this network)."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, widths: tuple[int, int, int] = (64, 128, 256)):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_chans
        for w in widths:
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2), nn.Dropout(0.4)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = _fc_head(_flat_size(self.features, in_chans), (128,), num_classes, dropout=0.5, bn=True)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # he_normal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ThesisCNN(nn.Module):
    """Paper 004, Fig 3.7 (FER2013) / 3.8 (CK+): 4 blocks of conv (3,1) + conv (1,3) (the parameter counts of
    the table fix these kernel shapes), BN, ReLU, max-pool, dropout; 64/128/256/512 filters; then dense 512
    (+ dense 256 in the CK+ variant) with BN, ReLU, dropout. Dropout rates are not in the table: 0.25 / 0.5."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, ck_variant: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_chans
        for w in (64, 128, 256, 512):
            layers += [
                nn.Conv2d(cin, w, (3, 1), padding=(1, 0)),
                nn.Conv2d(w, w, (1, 3), padding=(0, 1)),
                nn.BatchNorm2d(w),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Dropout(0.25),
            ]
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = _fc_head(
            _flat_size(self.features, in_chans), (512, 256) if ck_variant else (512,), num_classes, dropout=0.5, bn=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _resnet_trunk(depth: int, in_chans: int, small_input: bool) -> tuple[nn.Module, int]:
    """A torchvision ResNet without its classifier, for grey input; ``small_input`` keeps 48x48 maps large
    (3x3 stride-1 stem, no max-pool) instead of the ImageNet stem."""
    net = {18: resnet18, 34: resnet34, 50: resnet50}[depth](weights=None)
    if small_input:
        net.conv1 = nn.Conv2d(in_chans, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif in_chans != 3:
        net.conv1 = nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False)
    width = net.fc.in_features
    net.fc = nn.Identity()
    return net, width


class ResNetFC(nn.Module):
    """Paper 002's ResNet-based CNN: ResNet convolutional layers + FC 1024-1024-7. No ImageNet weights exist
    offline, so the trunk is trained from scratch (the paper loaded pretrained weights)."""

    def __init__(self, depth: int = 50, num_classes: int = 7, in_chans: int = 1, small_input: bool = True):
        super().__init__()
        self.trunk, width = _resnet_trunk(depth, in_chans, small_input)
        self.head = _fc_head(width, (1024, 1024), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


class MaskingBlock(nn.Module):
    """Paper 001's Masking Block: a small U-Net (``depth`` down/up levels with skip connections) ending in a
    1x1 conv and a sigmoid, giving a mask M in [0, 1] of the input's shape."""

    def __init__(self, channels: int, depth: int):
        super().__init__()
        self.down = nn.ModuleList(conv_bn(channels, channels) for _ in range(depth))
        self.bottom = conv_bn(channels, channels)
        self.up = nn.ModuleList(conv_bn(2 * channels, channels) for _ in range(depth))
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2, ceil_mode=True)
        x = self.bottom(x)
        for up, skip in zip(self.up, reversed(skips)):
            x = nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, skip], 1))
        return torch.sigmoid(self.out(x))


class ResidualMaskingNetwork(nn.Module):
    """Paper 001: ResNet34 whose 4 residual stages are each followed by a Masking Block (U-Net depths 4, 3, 2, 1),
    combined as F = F_R + F_R * M(F_R); global pooling and a linear classifier. The paper's 224x224 RGB input
    uses the ImageNet stem; ``small_input`` (48x48 grey) uses a 3x3 stride-1 stem instead."""

    def __init__(self, num_classes: int = 7, in_chans: int = 1, small_input: bool = True):
        super().__init__()
        trunk, width = _resnet_trunk(34, in_chans, small_input)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.stages = nn.ModuleList([trunk.layer1, trunk.layer2, trunk.layer3, trunk.layer4])
        self.masks = nn.ModuleList(MaskingBlock(c, d) for c, d in zip((64, 128, 256, 512), (4, 3, 2, 1)))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage, mask in zip(self.stages, self.masks):
            f = stage(x)
            x = f + f * mask(f)
        return self.head(x)
