"""Counting multiply-accumulates of a torch model on one input (conv and linear layers)."""

from __future__ import annotations

import torch
from torch import nn


def count_macs(model: nn.Module, shape: tuple[int, ...] | None = None) -> int:
    """Multiply-accumulates for one forward pass of a ``shape`` input (default one 48x48 face with the model's
    ``in_chans`` channels, 1 unless it says otherwise; FLOPs ~ 2 x MACs)."""
    shape = shape or (1, getattr(model, "in_chans", 1), 48, 48)
    total = 0

    def hook(m: nn.Module, _inp, out) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() // out.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += out.numel() // out.shape[0] * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(shape))
    for h in handles:
        h.remove()
    return total
