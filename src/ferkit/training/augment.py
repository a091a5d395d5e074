"""Batch augmentation on tensors (runs on the training device): affine jitter, flips, random erasing."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .recipes import Recipe


def augment_batch(x: torch.Tensor, r: Recipe) -> torch.Tensor:
    """Random rotation / zoom / shift / horizontal flip and random erasing of a (N, C, H, W) float batch."""
    n = x.shape[0]
    dev = x.device
    ang = (torch.rand(n, device=dev) * 2 - 1) * math.radians(r.rotation)
    scale = 1 + (torch.rand(n, device=dev) * 2 - 1) * r.scale
    flip = torch.where(torch.rand(n, device=dev) < 0.5, -1.0, 1.0) if r.hflip else torch.ones(n, device=dev)
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, :, 2] = (torch.rand(n, 2, device=dev) * 2 - 1) * 2 * r.shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if r.erase > 0:
        h, w = x.shape[-2:]
        eh = (torch.rand(n, device=dev) * 0.3 + 0.1) * h
        ew = (torch.rand(n, device=dev) * 0.3 + 0.1) * w
        cy, cx = torch.rand(n, device=dev) * h, torch.rand(n, device=dev) * w
        yy = torch.arange(h, device=dev).view(1, h, 1)
        xx = torch.arange(w, device=dev).view(1, 1, w)
        box = ((yy - cy.view(n, 1, 1)).abs() < eh.view(n, 1, 1) / 2) & (
            (xx - cx.view(n, 1, 1)).abs() < ew.view(n, 1, 1) / 2
        )
        box &= (torch.rand(n, device=dev) < r.erase).view(n, 1, 1)
        x = torch.where(box.unsqueeze(1), torch.rand_like(x) * 255, x)
    if r.lowres > 0:
        x = _lowres(x, r.lowres)
    if r.jitter > 0:
        c = 1 + (torch.rand(n, 1, 1, 1, device=dev) * 2 - 1) * r.jitter
        b = (torch.rand(n, 1, 1, 1, device=dev) * 2 - 1) * r.jitter * 128
        x = ((x - 128) * c + 128 + b).clamp(0, 255)
    return x


def _lowres(x: torch.Tensor, p: float) -> torch.Tensor:
    """Replace a fraction ``p`` of the batch by copies shrunk to a random side of 8..40 px and enlarged back."""
    n, h = x.shape[0], x.shape[-1]
    pick = torch.rand(n, device=x.device) < p
    if not pick.any():
        return x
    side = int(torch.randint(8, 41, (1,)))
    small = F.interpolate(x[pick], size=(side, side), mode="area")
    x = x.clone()
    x[pick] = F.interpolate(small, size=(h, h), mode="bilinear", align_corners=False)
    return x
