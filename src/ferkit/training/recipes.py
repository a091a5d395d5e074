"""Training recipes, by name: every hyper-parameter of a run lives here, not in scattered literals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ferkit.errors import UnknownNameError


@dataclass(frozen=True)
class Recipe:
    name: str
    epochs: int = 40
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd | adam | adamw | nadam
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # cosine (with warmup) | plateau | constant
    warmup_epochs: float = 2.0
    plateau_patience: int = 5
    plateau_factor: float = 0.1
    early_stopping_patience: int = 0  # 0 = off; restores the best weights at the end
    label_smoothing: float = 0.1
    balance: str = "none"  # none | oversample | weights
    targets: str = "labels"  # labels (hard) | votes: each face's annotator vote distribution (FER+)
    # augmentation (applied per batch, on the training device)
    rotation: float = 15.0  # degrees, +-
    scale: float = 0.15  # zoom +-fraction
    shift: float = 0.1  # translation, fraction of the side
    hflip: bool = True
    erase: float = 0.25  # probability of random erasing one patch
    lowres: float = 0.0  # probability of a down- and up-scaled copy (side 8..40 px): small, blurred faces
    jitter: float = 0.0  # brightness and contrast +- this fraction
    # knowledge distillation (used when a teacher file is given): paper 000's T = 10, alpha = 0.1
    kd_loss: str = "hinton"  # hinton (paper 000) | soft_labels (paper 003's EmoXNetLite)
    kd_alpha: float = 0.1  # weight of the hard-label loss
    kd_temperature: float = 10.0  # hinton only

    def to_dict(self) -> dict:
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    # ferkit's own recipe for small CNNs on FER2013 (selection on PublicTest).
    "ferkit": Recipe("ferkit"),
    # Paper 002: simple CNN / ResNet CNN / MLP trained with Adam, lr 1e-3 (no schedule or augmentation given).
    "paper002": Recipe(
        "paper002",
        epochs=50,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        schedule="constant",
        warmup_epochs=0.0,
        label_smoothing=0.0,
        rotation=0.0,
        scale=0.0,
        shift=0.0,
        hflip=False,
        erase=0.0,
    ),
    # Paper 000: DCNN, NAdam 1e-3, early stopping on validation accuracy restoring the best weights,
    # reduce LR on plateau (patience 11), rotation 45, shifts 0.1, flips, zoom 0.2, 100 epochs at most.
    "paper000": Recipe(
        "paper000",
        epochs=100,
        optimizer="nadam",
        lr=1e-3,
        weight_decay=0.0,
        schedule="plateau",
        warmup_epochs=0.0,
        plateau_patience=11,
        plateau_factor=0.5,
        early_stopping_patience=20,
        label_smoothing=0.0,
        rotation=45.0,
        scale=0.2,
        shift=0.1,
        erase=0.0,
    ),
    # Paper 004 (section 4): thesis CNN, Adam lr 0.01, batch 32, 25 epochs, Keras early stopping (min_delta 1e-4;
    # its patience is not stated: 5 here) restoring the best weights; no augmentation stated.
    "paper004": Recipe(
        "paper004",
        epochs=25,
        batch_size=32,
        optimizer="adam",
        lr=0.01,
        weight_decay=0.0,
        schedule="constant",
        warmup_epochs=0.0,
        early_stopping_patience=5,
        label_smoothing=0.0,
        rotation=0.0,
        scale=0.0,
        shift=0.0,
        hflip=False,
        erase=0.0,
    ),
    # Paper 001: RMN, SGD lr 1e-4 momentum 0.9 weight decay 1e-3, batch 48, LR /10 after 2 stale epochs,
    # stop after 8 stale epochs, 50 epochs at most; flips and rotation 30.
    "paper001": Recipe(
        "paper001",
        epochs=50,
        batch_size=48,
        optimizer="sgd",
        lr=1e-4,
        momentum=0.9,
        nesterov=False,
        weight_decay=1e-3,
        schedule="plateau",
        warmup_epochs=0.0,
        plateau_patience=2,
        plateau_factor=0.1,
        early_stopping_patience=8,
        label_smoothing=0.0,
        rotation=30.0,
        scale=0.0,
        shift=0.0,
        erase=0.0,
    ),
    # Paper 003: Nesterov SGD momentum 0.9, lr 0.01, weight decay 1e-4, batch 128, 100 epochs; flips, rotation,
    # shifts, shear, zoom (ranges not stated; shear is not implemented here).
    "paper003": Recipe(
        "paper003",
        epochs=100,
        batch_size=128,
        optimizer="sgd",
        lr=0.01,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
        schedule="plateau",
        warmup_epochs=0.0,
        plateau_patience=3,
        plateau_factor=0.1,
        early_stopping_patience=10,
        label_smoothing=0.0,
        rotation=10.0,
        scale=0.1,
        shift=0.1,
        erase=0.0,
    ),
    # Mask detection (mask / no mask) from synthesized masked faces: no random erasing (a grey patch looks like a
    # mask); low-resolution copies and brightness/contrast jitter for the small, varied faces of real photos; wide
    # shifts (0.25, over 0.1 on the face-mask design photos) for faces cut by the photo edge (replicated borders).
    "maskdet": Recipe(
        "maskdet",
        epochs=4,
        lr=0.05,
        warmup_epochs=0.5,
        label_smoothing=0.0,
        rotation=20.0,
        scale=0.3,
        shift=0.25,
        erase=0.0,
        lowres=0.6,
        jitter=0.3,
    ),
    # Mask detection on real photos: mask_net on the colour crops of the face-mask photos' training part (about 770
    # faces; `--dataset mask_photos`), selection on their validation part.
    "maskdet_photos": Recipe(
        "maskdet_photos",
        epochs=60,
        batch_size=64,
        optimizer="adamw",
        lr=3e-3,
        weight_decay=1e-3,
        warmup_epochs=1.0,
        label_smoothing=0.0,
        rotation=15.0,
        scale=0.15,
        shift=0.1,
        erase=0.0,
        lowres=0.5,
        jitter=0.3,
    ),
    # FER+: ferkit's recipe trained on each face's vote distribution (cross-entropy with the soft target), 28 epochs
    # (about an hour on 2 CPU cores; the first run's 12 epochs gave 81.77%); selection on FER+ PublicTest
    # (majority vote).
    "ferplus": Recipe("ferplus", epochs=28, label_smoothing=0.0, targets="votes"),
    # A short schedule for smoke runs and tests.
    "smoke": Recipe("smoke", epochs=1, warmup_epochs=0.0),
}


def get_recipe(name: str, **overrides) -> Recipe:
    if name not in RECIPES:
        raise UnknownNameError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(RECIPES[name], **overrides)


def lr_scaling(rec: Recipe, world_size: int = 1, rule: str = "auto", lr_given: bool = False) -> dict:
    """The factor applied to ``rec.lr`` for a global batch of ``rec.batch_size * world_size`` against the batch
    of the named recipe: ``linear`` (Goyal et al. 2017, with the recipe's warmup), ``sqrt`` (adaptive optimisers),
    ``auto`` (linear for SGD, sqrt for the Adam family), ``none``. An explicit learning rate is never scaled."""
    named = RECIPES.get(rec.name, rec)
    ref, batch = named.batch_size, rec.batch_size * world_size
    if rule == "auto":
        rule = "linear" if rec.optimizer == "sgd" else "sqrt"
    if lr_given or batch == ref:
        rule = "none"
    factor = {"linear": batch / ref, "sqrt": (batch / ref) ** 0.5}.get(rule, 1.0)
    return {"rule": rule, "reference_batch": ref, "global_batch": batch, "factor": round(factor, 6)}
