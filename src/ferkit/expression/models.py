"""One classifier interface and one resolver for a model spec, used by every verb and the Python API.

A model spec is a shipped model's name (``ferkit models``; ``default``), an exported ``.onnx`` file, a training
checkpoint (``.ckpt``, needs the train extra), a fitted classical model (``.joblib``), or several of these joined
by ``+`` (their averaging ensemble). ``views`` > 1 averages each face over that many test-time views.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ferkit.config import DEFAULT_PRECISION, EMOTIONS
from ferkit.errors import BadOptionError, UnknownNameError

from .registry import shipped_models
from .tta import TTA_MAX_VIEWS

PRECISIONS = ("int8", "fp32")
#: File kinds a model spec may name, each with what loads it.
MODEL_FILES = {".onnx": "an exported model", ".ckpt": "a training checkpoint", ".joblib": "a fitted classical model"}


@runtime_checkable
class Classifier(Protocol):
    """What every expression classifier offers: its name, its classes, and probabilities for (N, 48, 48) uint8
    grey faces."""

    name: str
    classes: tuple[str, ...]

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """(N, len(classes)) probabilities."""
        ...


def model_spec_problem(spec: str) -> str | None:
    """What is wrong with a model spec (one line), or None when every part names a model that exists."""
    if not isinstance(spec, str) or not spec:
        return f"must name a model, not {spec!r}"
    for part in spec.split("+"):
        if part == "default" or part in shipped_models():
            continue
        suffix = Path(part).suffix
        if suffix in MODEL_FILES:
            if not Path(part).is_file():
                return f"{part}: no such file ({MODEL_FILES[suffix]})"
            continue
        return (
            f"unknown or untrained model {part!r}; shipped models: {', '.join(shipped_models())}, "
            "or a .onnx, .ckpt or .joblib file, or several joined by +"
        )
    return None


def check_model_spec(spec: str, option: str = "--model") -> None:
    """Raise ``BadOptionError`` (one line naming ``option``) unless ``spec`` names models that exist; loads nothing."""
    problem = model_spec_problem(spec)
    if problem:
        raise BadOptionError(f"{option}: {problem}")


def check_views(views: int, option: str = "--tta") -> None:
    """Raise ``BadOptionError`` unless ``views`` is 0 or 1 (off) or 2..TTA_MAX_VIEWS."""
    if not isinstance(views, int) or isinstance(views, bool) or not 0 <= views <= TTA_MAX_VIEWS:
        raise BadOptionError(f"{option}: views per face must be 0 or 1 (off) or 2..{TTA_MAX_VIEWS}, not {views!r}")


def check_precision(precision: str, option: str = "--precision") -> None:
    """Raise ``BadOptionError`` unless ``precision`` is a shipped copy's (int8 or fp32)."""
    if precision not in PRECISIONS:
        raise BadOptionError(f"{option}: must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def load_classifier(
    spec: str = "default",
    *,
    classes: tuple[str, ...] = EMOTIONS,
    precision: str = DEFAULT_PRECISION,
    threads: int = 0,
    views: int = 0,
) -> Classifier:
    """The classifier ``spec`` names (see the module's docstring). ``classes``: those of a ``.ckpt`` or
    ``.joblib`` (ONNX models carry theirs); ``precision``: a shipped model's int8 or fp32 copy."""
    problem = model_spec_problem(spec)
    if problem:
        raise UnknownNameError(problem)
    check_views(views)
    if "+" in spec:
        from .ensemble import AverageEnsemble

        clf = AverageEnsemble(
            [load_classifier(m, classes=classes, precision=precision, threads=threads) for m in spec.split("+")]
        )
    elif spec.endswith(".joblib"):
        from .estimator import EstimatorClassifier

        clf = EstimatorClassifier(spec, classes)
    elif spec.endswith(".ckpt"):
        from .export import TorchClassifier

        clf = TorchClassifier(spec, classes)
    else:
        from .classifier import ExpressionClassifier

        clf = ExpressionClassifier(spec, threads, precision=precision)
    if views > 1:
        from .tta import TTAClassifier

        clf = TTAClassifier(clf, views)
    return clf
