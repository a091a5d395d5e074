"""Model registry (timm-style): every architecture registered by name, built by ``create_model``.

Shipped, trained models live in ``ferkit/assets/models/<name>/`` as ``model.onnx`` plus ``card.json``
(its measured figures); ``load_classifier(name)`` runs them with ONNX Runtime, no torch needed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from ..config import MODELS_DIR
from ..errors import FerkitError, UnknownNameError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., Any]
    description: str
    paper: str = ""


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, description: str, paper: str = "") -> Callable:
    """Decorator registering a builder ``fn(num_classes=7, **kw) -> torch.nn.Module`` under ``name``."""
    def deco(fn: Callable) -> Callable:
        _REGISTRY[name] = ModelEntry(name, fn, description, paper)
        return fn
    return deco


def _load_builders() -> None:
    from . import zoo  # noqa: F401  (registers the architectures; needs torch)


def create_model(name: str, num_classes: int = 7, **kw: Any):
    """Build the torch model registered as ``name`` (untrained; load weights with ``load_checkpoint``)."""
    try:
        _load_builders()
    except ImportError as e:
        raise FerkitError(f"building torch models needs the training extra (pip install 'ferkit[train]'): {e}") from e
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name].builder(num_classes=num_classes, **kw)


def shipped_models() -> list[str]:
    """Names of trained models shipped in the package (ONNX + card)."""
    if not MODELS_DIR.exists():
        return []
    return sorted(p.name for p in MODELS_DIR.iterdir() if (p / "model.onnx").exists())


def model_card(name: str) -> dict:
    """The measured figures of a shipped model (``card.json``)."""
    path = MODELS_DIR / name / "card.json"
    if not path.exists():
        raise UnknownNameError(f"no shipped weights for model {name!r}; shipped: {', '.join(shipped_models()) or 'none'}")
    return json.loads(path.read_text())


def list_models() -> list[dict]:
    """One row per registered architecture or shipped model: name, description, shipped, measured accuracy."""
    rows: dict[str, dict] = {}
    try:
        _load_builders()
    except ImportError:
        pass
    for e in _REGISTRY.values():
        rows[e.name] = {"name": e.name, "description": e.description, "paper": e.paper, "shipped": False}
    for name in shipped_models():
        card = model_card(name)
        row = rows.setdefault(name, {"name": name, "description": card.get("description", ""), "paper": ""})
        row.update(shipped=True, privatetest_accuracy=card.get("privatetest_accuracy"),
                   faces_per_s=card.get("faces_per_s"))
    return sorted(rows.values(), key=lambda r: (not r["shipped"], r["name"]))
