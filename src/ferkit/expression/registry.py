"""Model registry (timm-style): every architecture registered by name, built by ``create_model``.

Shipped, trained models live in ``ferkit/assets/models/<name>/`` as ``model.onnx`` plus ``card.json``
(its measured figures); ``load_classifier(name)`` runs them with ONNX Runtime, no torch needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ferkit.config import DEFAULT_MODEL, DEFAULT_PRECISION, MODELS_DIR
from ferkit.errors import UnknownNameError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., Any]
    description: str
    paper: str = ""
    kind: str = "torch"  # torch | classical (scikit-learn)


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, description: str, paper: str = "", kind: str = "torch") -> Callable:
    """Decorator registering a builder ``fn(num_classes=7, **kw)`` under ``name``: it returns a
    ``torch.nn.Module`` (kind ``torch``) or a scikit-learn estimator on faces (kind ``classical``)."""

    def deco(fn: Callable) -> Callable:
        _REGISTRY[name] = ModelEntry(name, fn, description, paper, kind)
        return fn

    return deco


_ZOOS = ("zoo", "zoo_classical")  # modules whose import registers models (torch, scikit-learn)


def _load_builders() -> list[str]:
    """Import the model zoos that the installed extras allow; return the import errors of the others."""
    import importlib

    missing = []
    for zoo in _ZOOS:
        try:
            importlib.import_module(f"{__package__}.{zoo}")
        except ImportError as e:
            missing.append(str(e))
    return missing


def create_model(name: str, num_classes: int = 7, **kw: Any):
    """Build the (untrained) model registered as ``name``: a torch module or a scikit-learn estimator."""
    missing = _load_builders()
    if name not in _REGISTRY:
        hint = f" (the training extra is missing: pip install 'ferkit[train]'; {'; '.join(missing)})" if missing else ""
        raise UnknownNameError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}{hint}")
    return _REGISTRY[name].builder(num_classes=num_classes, **kw)


def model_kind(name: str) -> str:
    """'torch' or 'classical'."""
    _load_builders()
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name].kind


_GENERIC_STEMS = ("best", "last", "model", "model_int8")  # file names that training/export give every run


def model_file_name(path: str | Path) -> str:
    """A trained model file's name in results and reports: its run folder for the generic file names of training
    and export (``runs/X/checkpoints/best.ckpt``, ``runs/X/model.joblib``, ``X/model.onnx`` -> ``X``), else its stem."""
    path = Path(path)
    if path.stem not in _GENERIC_STEMS:
        return path.stem
    folder = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return folder.name or path.stem


def weights_label(source: str | None) -> str | None:
    """How a run names the weights it started from: a shipped model by its name (also where ``source`` is the path
    of its ONNX file in the package), anything else as given; None for a run from random weights."""
    if not source:
        return None
    path = Path(source)
    if path.suffix == ".onnx" and path.resolve().parent.parent == MODELS_DIR.resolve():
        return path.parent.name
    return str(source)


def shipped_models() -> list[str]:
    """Names of trained models shipped in the package (ONNX + card)."""
    if not MODELS_DIR.exists():
        return []
    return sorted(p.name for p in MODELS_DIR.iterdir() if (p / "model.onnx").exists())


def model_card(name: str) -> dict:
    """The measured figures of a shipped model (``card.json``)."""
    path = MODELS_DIR / name / "card.json"
    if not path.exists():
        raise UnknownNameError(
            f"no shipped weights for model {name!r}; shipped: {', '.join(shipped_models()) or 'none'}"
        )
    return json.loads(path.read_text())


def list_models() -> list[dict]:
    """One row per registered architecture or shipped model: name, description, shipped, measured accuracy."""
    rows: dict[str, dict] = {}
    _load_builders()
    for e in _REGISTRY.values():
        rows[e.name] = {
            "name": e.name,
            "description": e.description,
            "paper": e.paper,
            "kind": e.kind,
            "shipped": False,
        }
    for name in shipped_models():
        card = model_card(name)
        row = rows.setdefault(name, {"name": name, "description": card.get("description", ""), "paper": ""})
        runtime = card.get("int8") if DEFAULT_PRECISION == "int8" and card.get("int8") else card
        row.update(
            shipped=True,
            default=name == DEFAULT_MODEL,
            precision="int8" if runtime is not card else "fp32",
            privatetest_accuracy=runtime.get("privatetest_accuracy"),
            faces_per_s=runtime.get("faces_per_s"),
            test_set=card.get("test_set", "FER2013"),
            measured_by=card.get("ship_command"),
        )
    return sorted(rows.values(), key=lambda r: (not r["shipped"], r["name"]))


def shipped_table() -> str:
    """The shipped models as a Markdown table from their cards: what ``ferkit models --markdown`` prints and the
    README holds."""
    lines = ["| model | PrivateTest (runtime precision) | faces/s (at ship) | recreated by |", "|---|---|---|---|"]
    for r in list_models():
        if r["shipped"] and r.get("privatetest_accuracy") is not None:
            name = f"`{r['name']}` (default)" if r.get("default") else f"`{r['name']}`"
            lines.append(
                f"| {name} | {r['test_set']} {r['privatetest_accuracy']:.2%} {r['precision']} | "
                f"{r['faces_per_s']:,.0f} | `{r['measured_by']}` |"
            )
    return "\n".join(lines) + "\n"
