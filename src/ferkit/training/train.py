"""``ferkit train``: Lightning training with per-epoch checkpoints, resume, selection on the validation split."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from ferkit.config import DATA_PATHS, FREED_MEMORY, INIT_CALIBRATION_FACES, LR_SCALES
from ferkit.data import FaceSet, load_dataset
from ferkit.errors import check_choice
from ferkit.face.preprocess import as_nchw
from ferkit.utils.io import read_json, write_json_atomic
from ferkit.utils.memory import keep_freed_memory
from ferkit.utils.reports import command_line

from .batches import BatchesOnDevice, FaceBatches
from .hardware import CpuLoad, hardware, resolve_precision
from .module import ExpressionModule
from .recipes import RECIPES, Recipe, get_recipe, lr_scaling

#: Train and validation splits of each dataset (selection never uses the final test split).
TRAIN_VAL_SPLITS = {
    "fer2013": ("Training", "PublicTest"),
    "ferplus": ("Training", "PublicTest"),
    "ferplus8": ("Training", "PublicTest"),
    "mask": ("Training", "PublicTest"),
    "mask_photos": ("train", "val"),
}
#: Faces per validation batch.
VAL_BATCH = 512


def _tensors(
    ds: FaceSet, teacher_logits: np.ndarray | None = None, targets: str = "labels"
) -> tuple[torch.Tensor, ...]:
    """Faces, targets (hard labels, or with ``targets="votes"`` the normalised vote distributions) and, when
    distilling, the teacher's stored logits."""
    if targets == "votes":
        if ds.votes is None:
            raise ValueError(f"{ds.split}: this dataset has no vote distributions (targets=votes needs FER+)")
        y = torch.from_numpy((ds.votes / ds.votes.sum(1, keepdims=True)).astype(np.float32))
    else:
        y = torch.from_numpy(ds.labels)
    t = [] if teacher_logits is None else [torch.from_numpy(teacher_logits)]
    return (torch.from_numpy(as_nchw(ds.images, np.uint8)), y, *t)


def _batches(
    train_set: FaceSet,
    val_set: FaceSet,
    teacher_logits: np.ndarray | None,
    rec: Recipe,
    inv_freq: np.ndarray,
    data_path: str,
    seed: int,
):
    """The training and validation batches: ``FaceBatches`` sliced on the device, or DataLoaders."""
    train_t, val_t = _tensors(train_set, teacher_logits, rec.targets), _tensors(val_set)
    weights = torch.from_numpy(inv_freq[train_set.labels]) if rec.balance == "oversample" else None
    if data_path == "device":
        train = FaceBatches(train_t, rec.batch_size, weights=weights, seed=seed)
        return train, FaceBatches(val_t, VAL_BATCH, shuffle=False, drop_last=False, shard=False)
    sampler = None if weights is None else WeightedRandomSampler(weights, len(train_set), replacement=True)
    train = DataLoader(
        TensorDataset(*train_t),
        batch_size=rec.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=len(train_set) > rec.batch_size,
    )
    return train, DataLoader(TensorDataset(*val_t), batch_size=VAL_BATCH)


class EpochLog(Callback):
    """Appends one JSON line per epoch (metrics, lr, wall time) to ``epochs.jsonl`` and prints it."""

    def __init__(self, path: Path):
        self.path = path
        self.t0 = time.time()

    def on_train_epoch_start(self, trainer, pl_module):
        self.t0 = time.time()

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        m = {k: float(v) for k, v in trainer.callback_metrics.items()}
        row = {
            "epoch": trainer.current_epoch,
            "seconds": round(time.time() - self.t0, 1),
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            **m,
        }
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


def train(
    model: str,
    dataset: str,
    data: str,
    out: str,
    recipe: str | Recipe = "ferkit",
    resume: bool = False,
    teacher: str | None = None,
    images: str | None = None,
    threads: int | None = None,
    seed: int = 0,
    max_train: int | None = None,
    init: str | None = None,
    **kw,
) -> dict:
    """Train ``model`` on ``dataset``'s training split, select on its validation split; return the summary
    (best validation accuracy, checkpoint, time). ``teacher``: a file of stored teacher outputs (``ferkit teach``)
    on the training faces: the student then learns with the recipe's distillation loss (``kd_loss``, ``kd_alpha``,
    ``kd_temperature``). ``max_train``: a random subset of the training split (a short schedule). ``init``: start
    from these weights (a shipped model, an ``.onnx`` file or a checkpoint; ``init_weights``). Other keywords:
    ``fit_faces``'s options, then recipe overrides."""
    if threads:
        torch.set_num_threads(threads)
    tr_split, va_split = TRAIN_VAL_SPLITS.get(dataset, ("Training", "PublicTest"))
    train_set = load_dataset(dataset, data, tr_split, images=images)
    n_split = len(train_set)
    train_set = train_set.sample(max_train, seed)
    val_set = load_dataset(dataset, data, va_split, images=images)
    teacher_logits = None
    if teacher:
        from .teacher import TeacherOutputs

        teacher_logits = TeacherOutputs.load(teacher).for_keys(train_set.keys())
    return fit_faces(
        model,
        train_set,
        val_set,
        out,
        recipe,
        resume=resume,
        seed=seed,
        teacher_logits=teacher_logits,
        init=init,
        run_info={
            "dataset": dataset,
            "data": str(data),
            "images": images,
            "teacher": teacher,
            "n_train": len(train_set),
            "n_train_split": n_split,
        },
        **kw,
    )


def fit_faces(
    model: str,
    train_set: FaceSet,
    val_set: FaceSet,
    out: str | Path,
    recipe: str | Recipe = "ferkit",
    resume: bool = False,
    accelerator: str = "auto",
    devices: str | int = "auto",
    num_nodes: int = 1,
    strategy: str = "auto",
    precision: str = "auto",
    max_time: str | None = None,
    seed: int = 0,
    limit_batches: int | None = None,
    teacher_logits: np.ndarray | None = None,
    run_info: dict | None = None,
    init: str | None = None,
    data_path: str = "device",
    compile_mode: str | None = None,
    lr_scale: str = "auto",
    freed_memory: str = "keep",
    extra_callbacks: list[Callback] | None = None,
    **overrides,
) -> dict:
    """Train ``model`` on the faces of ``train_set``, keeping the checkpoint with the best accuracy on
    ``val_set`` (early stopping and plateau schedules watch it too); resumable from ``out``. ``init``: the
    weights to start from (``init_weights``; batch norms calibrated on training faces). ``precision``: Lightning's,
    or ``auto`` (``resolve_precision``). ``data_path``: ``device`` (``FaceBatches``) or ``loader`` (a DataLoader).
    ``compile_mode``: ``torch.compile`` the network with this mode (``default``, ``reduce-overhead``...).
    ``lr_scale``: how the recipe's learning rate follows a global batch other than the recipe's (``lr_scaling``).
    ``freed_memory``: ``keep`` (``utils.memory.keep_freed_memory``) or ``return`` (the C library's default)."""
    rec = recipe if isinstance(recipe, Recipe) else get_recipe(recipe, **overrides)
    check_choice(data_path, DATA_PATHS, "--data-path")
    check_choice(lr_scale, LR_SCALES, "--lr-scale")
    check_choice(freed_memory, FREED_MEMORY, "--freed-memory")
    if freed_memory == "keep" and not keep_freed_memory():
        freed_memory = "return (the C library offers no setting)"
    L.seed_everything(seed, workers=True)
    out_dir = Path(out)
    ckpt_dir = out_dir / "checkpoints"
    out_dir.mkdir(parents=True, exist_ok=True)

    counts = np.bincount(train_set.labels, minlength=len(train_set.classes)).astype(float)
    inv = counts.sum() / np.maximum(counts, 1) / len(counts)
    precision = resolve_precision(precision, accelerator)
    train_dl, val_dl = _batches(train_set, val_set, teacher_logits, rec, inv, data_path, seed)
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val_acc", mode="max", save_last=True),
        EpochLog(out_dir / "epochs.jsonl"),
    ]
    if data_path == "device":
        callbacks.append(BatchesOnDevice(train_dl, val_dl))
    callbacks += extra_callbacks or []
    if rec.early_stopping_patience:
        callbacks.append(EarlyStopping(monitor="val_acc", mode="max", patience=rec.early_stopping_patience))
    trainer = L.Trainer(
        max_epochs=rec.epochs,
        accelerator=accelerator,
        devices=devices,
        num_nodes=num_nodes,
        strategy=strategy,
        precision=precision,
        callbacks=callbacks,
        default_root_dir=str(out_dir),
        logger=L.pytorch.loggers.CSVLogger(str(out_dir), name="logs"),
        max_time=max_time,
        enable_progress_bar=sys.stderr.isatty(),
        log_every_n_steps=50,
        deterministic=False,
        limit_train_batches=limit_batches,
        limit_val_batches=limit_batches,
    )
    world = trainer.world_size
    lr_rule = lr_scaling(rec, world, lr_scale, overrides.get("lr") is not None)
    rec = replace(rec, lr=rec.lr * lr_rule["factor"])
    module = ExpressionModule(
        model,
        len(train_set.classes),
        rec.to_dict(),
        class_weights=inv.tolist() if rec.balance == "weights" else None,
        steps_per_epoch=max(1, len(train_set) // (rec.batch_size * world)),
        in_chans=1 if train_set.images.ndim == 3 else 3,
        compile_mode=compile_mode,
    )
    last = ckpt_dir / "last.ckpt"
    if not resume and last.exists():
        raise FileExistsError(f"{out_dir}: holds a previous run; pass --resume to continue it or choose another --out")
    if resume and last.exists():  # the checkpoint holds the weights; the run keeps the start it recorded
        init = read_json(out_dir / "run.json").get("init")
    elif init:
        from .init_weights import init_weights

        pick = np.random.default_rng(seed).permutation(len(train_set))[:INIT_CALIBRATION_FACES]
        init = init_weights(module.model, init, train_set.images[np.sort(pick)])
    write_json_atomic(
        out_dir / "run.json",
        {
            "model": model,
            **(run_info or {}),
            "init": init,
            "recipe": rec.to_dict(),
            "command": command_line(),
            "hardware": hardware(),
            "seed": seed,
            "precision": precision,
            "data_path": data_path,
            "compile": compile_mode,
            "freed_memory": freed_memory,
            "lr_scaling": lr_rule,
        },
    )
    with CpuLoad() as load:
        trainer.fit(module, train_dl, val_dl, ckpt_path=str(last) if resume and last.exists() else None)
    epochs = _kept_epochs(out_dir / "epochs.jsonl")
    best = callbacks[0]
    early = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
    stopped_by = (
        "early_stopping"
        if early is not None and early.stopped_epoch > 0
        else "max_epochs"
        if len(epochs) >= rec.epochs
        else "time limit or interruption"
    )
    short = short_schedule(rec, run_info or {})
    summary = {
        "stopped_by": stopped_by,
        "full_recipe": stopped_by != "time limit or interruption" and not short,
        "short_schedule": short,
        "model": model,
        "init": init,
        "dataset": (run_info or {}).get("dataset"),
        "best_checkpoint": str(ckpt_dir / "best.ckpt"),
        "best_val_acc": float(best.best_model_score) if best.best_model_score is not None else None,
        "epochs_done": len(epochs),
        "train_seconds": round(sum(e["seconds"] for e in epochs), 1),
        # passes over the training data, fractional when a time limit cut the last epoch short
        "epochs_trained": round(trainer.global_step / max(trainer.num_training_batches, 1), 2),
        "recipe": rec.to_dict(),
        "precision": precision,
        "hardware": hardware(load.peak),
        "peak_load_average": load.peak,
    }
    if trainer.is_global_zero:  # under DDP every process ends here; one writes
        write_json_atomic(out_dir / "summary.json", summary)
    return summary


def short_schedule(rec: Recipe, run_info: dict) -> str:
    """How a run was cut below its named recipe ('2 of 50 epochs, on 5,000 of 28,709 training faces'), or ''."""
    named = RECIPES.get(rec.name)
    cut = [f"{rec.epochs} of {named.epochs} epochs"] if named is not None and rec.epochs < named.epochs else []
    n, n_split = run_info.get("n_train"), run_info.get("n_train_split")
    if n is not None and n_split is not None and n < n_split:
        cut.append(f"on {n:,} of {n_split:,} training faces")
    return ", ".join(cut)


def _kept_epochs(log: Path) -> list[dict]:
    """The epoch log without the epochs a resumed run repeated (their last record is kept), so that epoch counts
    and training time cover the epochs of the final weights once each."""
    if not log.exists():
        return []
    last = {}
    for line in open(log):
        row = json.loads(line)
        last[row["epoch"]] = row
    return [last[k] for k in sorted(last)]
