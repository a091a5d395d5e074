"""Training recipes, by name: every hyper-parameter of a run lives here, not in scattered literals."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ..errors import UnknownNameError


@dataclass(frozen=True)
class Recipe:
    name: str
    epochs: int = 40
    batch_size: int = 128
    optimizer: str = "sgd"          # sgd | adam | adamw | nadam
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"        # cosine (with warmup) | plateau | constant
    warmup_epochs: float = 2.0
    plateau_patience: int = 5
    plateau_factor: float = 0.1
    early_stopping_patience: int = 0  # 0 = off; restores the best weights at the end
    label_smoothing: float = 0.1
    balance: str = "none"           # none | oversample | weights
    # augmentation (applied per batch, on the training device)
    rotation: float = 15.0          # degrees, +-
    scale: float = 0.15             # zoom +-fraction
    shift: float = 0.1              # translation, fraction of the side
    hflip: bool = True
    erase: float = 0.25             # probability of random erasing one patch

    def to_dict(self) -> dict:
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    # ferkit's own recipe for small CNNs on FER2013 (selection on PublicTest).
    "ferkit": Recipe("ferkit"),
    # A short schedule for smoke runs and tests.
    "smoke": Recipe("smoke", epochs=1, warmup_epochs=0.0),
}


def get_recipe(name: str, **overrides) -> Recipe:
    if name not in RECIPES:
        raise UnknownNameError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(RECIPES[name], **overrides)
