"""Registrations of the torch architectures (imported lazily: needs torch)."""
from __future__ import annotations

from .nets import VGGLike
from .registry import register_model


@register_model("ferkit_cnn_s", "ferkit's small VGG-style CNN (32-48-96-192, BN, GAP), 48x48 grey; the first default")
def ferkit_cnn_s(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike((32, 48, 96, 192), num_classes, in_chans, **kw)


@register_model("ferkit_cnn_m", "ferkit's medium VGG-style CNN (32-64-128-256, BN, GAP), 48x48 grey")
def ferkit_cnn_m(num_classes: int = 7, in_chans: int = 1, **kw) -> VGGLike:
    return VGGLike((32, 64, 128, 256), num_classes, in_chans, **kw)
