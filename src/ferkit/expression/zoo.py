"""Registrations of the torch architectures (imported lazily: needs torch)."""

from __future__ import annotations

from .nets import VGGLike
from .paper_nets import DCNN6, ResidualMaskingNetwork, ResNetFC, SimpleCNN, ThesisCNN
from .registry import register_model

WIDTHS_S, WIDTHS_M = (32, 48, 96, 192), (32, 64, 128, 256)  # stage widths of ferkit_cnn_s* and ferkit_cnn_m*


@register_model("ferkit_cnn_s", "ferkit's small VGG-style CNN (32-48-96-192, BN, GAP), 48x48 grey; the first default")
def ferkit_cnn_s(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike(WIDTHS_S, num_classes, in_chans, **kw)


@register_model("ferkit_cnn_s2", "ferkit_cnn_s with a stride-2 stem conv instead of conv + max-pool: faster on CPU")
def ferkit_cnn_s2(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike(WIDTHS_S, num_classes, in_chans, stem="stride2", **kw)


@register_model("ferkit_cnn_s2d", "ferkit_cnn_s with a space-to-depth stem (2x2 pixels -> 4 channels, then a conv)")
def ferkit_cnn_s2d(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike(WIDTHS_S, num_classes, in_chans, stem="s2d", **kw)


@register_model("ferkit_cnn_m", "ferkit's medium VGG-style CNN (32-64-128-256, BN, GAP), 48x48 grey")
def ferkit_cnn_m(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike(WIDTHS_M, num_classes, in_chans, **kw)


@register_model("ferkit_cnn_m2", "ferkit_cnn_m with a stride-2 stem conv instead of conv + max-pool: faster on CPU")
def ferkit_cnn_m2(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike(WIDTHS_M, num_classes, in_chans, stem="stride2", **kw)


@register_model("mask_net", "ferkit's tiny mask / no-mask classifier (16-32-64, BN, GAP), 48x48 grey")
def mask_net(num_classes: int = 2, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike((16, 32, 64), num_classes, in_chans, **kw)


@register_model("simple_cnn", "simple CNN: conv 5x5x64 / 3x3x64 / 3x3x128 with pools, FC 1024-1024-7", paper="002")
def simple_cnn(num_classes: int = 7, in_chans: int = 1, **kw) -> SimpleCNN:
    return SimpleCNN(num_classes, in_chans)


@register_model("dcnn6", "6-conv DCNN: 3 x (2 conv + pool + dropout), 2 FC, he_normal", paper="000")
def dcnn6(num_classes: int = 7, in_chans: int = 1, **kw) -> DCNN6:
    return DCNN6(num_classes, in_chans, **kw)


@register_model("thesis_cnn", "8-conv CNN with BN/dropout ((3,1)+(1,3) convs, 64-512), dense 512", paper="004")
def thesis_cnn(num_classes: int = 7, in_chans: int = 1, **kw) -> ThesisCNN:
    return ThesisCNN(num_classes, in_chans, **kw)


@register_model("thesis_cnn_ck", "thesis CNN, CK+ variant (Fig 3.8): dense 512-256", paper="004")
def thesis_cnn_ck(num_classes: int = 7, in_chans: int = 1, **kw) -> ThesisCNN:
    return ThesisCNN(num_classes, in_chans, ck_variant=True, **kw)


@register_model("resnet18_fc", "ResNet18 convolutional layers + FC 1024-1024-7 (from scratch)", paper="002")
def resnet18_fc(num_classes: int = 7, in_chans: int = 1, **kw) -> ResNetFC:
    return ResNetFC(18, num_classes, in_chans, **kw)


@register_model("resnet50_fc", "ResNet50 convolutional layers + FC 1024-1024-7 (from scratch)", paper="002")
def resnet50_fc(num_classes: int = 7, in_chans: int = 1, **kw) -> ResNetFC:
    return ResNetFC(50, num_classes, in_chans, **kw)


@register_model("rmn", "Residual Masking Network: ResNet34 + U-Net masking blocks, F = F_R + F_R*M(F_R)", paper="001")
def rmn(num_classes: int = 7, in_chans: int = 1, **kw) -> ResidualMaskingNetwork:
    return ResidualMaskingNetwork(num_classes, in_chans, **kw)


def _register_paper003() -> None:
    try:
        from .timm_nets import PAPER003_BACKBONES, EmoXNet, PooledBackbone
    except ImportError:  # timm is part of the train extra
        return
    for backbone in PAPER003_BACKBONES:
        register_model(backbone, f"timm {backbone} trunk + GAP + linear (from scratch), EmoXNet member", paper="003")(
            lambda num_classes=7, in_chans=1, _b=backbone, **kw: PooledBackbone(_b, num_classes, in_chans)
        )
    register_model(
        "emoxnet",
        "EmoXNet: pooled features of the seven backbones concatenated -> MLP head (backbones=... picks members)",
        paper="003",
    )(
        lambda num_classes=7, in_chans=1, backbones=PAPER003_BACKBONES, **kw: EmoXNet(
            tuple(backbones), num_classes, in_chans, **kw
        )
    )


_register_paper003()
