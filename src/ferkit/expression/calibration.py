"""Crowd calibration: a model's FER2013 probabilities mapped to what a crowd of people would say of the face.

FER2013's labels come from one annotator; FER+ (Barsoum et al., 2016) had ten people vote on every face. A
``Calibration`` rescales each class's log-probability and adds a bias (``scale``, ``bias``: 14 numbers), fitted to
the FER+ vote distributions of validation faces by cross-entropy (``fit``); ``prior_weight`` then divides by the
votes' class prior to that power, so that a class is not favoured only because FER2013's faces showed it more often.
``uncertain_below``: a face whose top calibrated probability is under this is flagged as uncertain.
A shipped model's calibration sits beside it as ``calibration.json`` (``Calibration.of``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ferkit.config import MODELS_DIR
from ferkit.utils.io import read_json

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """Per-class log-probability ``scale`` and ``bias``, the votes' class ``prior`` and its ``prior_weight``,
    the ``uncertain_below`` threshold; ``source``: how each was chosen (kept with the file)."""

    scale: tuple[float, ...]
    bias: tuple[float, ...]
    prior: tuple[float, ...]
    prior_weight: float = 0.0
    uncertain_below: float = 0.0
    source: dict = field(default_factory=dict, compare=False)

    def logits(self, probs: np.ndarray) -> np.ndarray:
        return (
            np.log(np.asarray(probs, np.float64) + 1e-6) * self.scale
            + self.bias
            - self.prior_weight * np.log(self.prior)
        )

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """(N, C) calibrated probabilities of (N, C) model probabilities."""
        z = self.logits(probs)
        z = np.exp(z - z.max(1, keepdims=True))
        return (z / z.sum(1, keepdims=True)).astype(np.float32)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        return cls(
            tuple(d["scale"]),
            tuple(d["bias"]),
            tuple(d["prior"]),
            float(d.get("prior_weight", 0.0)),
            float(d.get("uncertain_below", 0.0)),
            d.get("source", {}),
        )

    @classmethod
    def of(cls, model_dir: str | Path) -> "Calibration | None":
        """The calibration shipped beside a model (its folder, or a shipped model's name); None without one."""
        path = Path(model_dir)
        path = path if path.is_dir() else MODELS_DIR / str(model_dir)
        d = read_json(path / CALIBRATION_FILE)
        return cls.from_dict(d) if d else None

    @classmethod
    def fit(cls, probs: np.ndarray, votes: np.ndarray, steps: int = 500, lr: float = 0.5) -> "Calibration":
        """Scale and bias fitted by gradient descent on the cross-entropy between the calibrated probabilities and
        the vote distributions (``votes``: (N, C) counts, in the model's class order); prior: the votes' mean."""
        x = np.log(np.asarray(probs, np.float64) + 1e-6)
        t = np.asarray(votes, np.float64)
        t = t / np.maximum(t.sum(1, keepdims=True), 1e-9)
        scale, bias = np.ones(x.shape[1]), np.zeros(x.shape[1])
        for _ in range(steps):
            z = x * scale + bias
            q = np.exp(z - z.max(1, keepdims=True))
            q /= q.sum(1, keepdims=True)
            g = (q - t) / len(x)
            scale -= lr * (g * x).sum(0)
            bias -= lr * g.sum(0)
        return cls(tuple(scale.round(6)), tuple(bias.round(6)), tuple(t.mean(0).round(6)))
