"""Masked faces: mask synthesis from landmarks and templates, masked datasets, mask detection."""

from .dataset import mask_fer2013
from .synthesize import MaskPlacement, mask_face, rng_for
from .templates import MaskTemplate, load_templates

__all__ = ["MaskPlacement", "MaskTemplate", "load_templates", "mask_face", "mask_fer2013", "rng_for"]
