"""``ferkit bench --train``: how fast a model trains here, the step alone and a whole epoch around it."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from ferkit.config import EMOTIONS, FACE_SIZE
from ferkit.data import FaceSet
from ferkit.utils.memory import keep_freed_memory

from .hardware import hardware, resolve_precision
from .module import ExpressionModule
from .recipes import get_recipe


def speed_faces(n: int, fer2013: str | None = None, split: str = "Training", seed: int = 0) -> FaceSet:
    """``n`` faces to time on: a seeded random sample of a FER2013 split, or random grey faces (timing does not depend
    on the pixels of a dense CNN)."""
    if fer2013:
        from ferkit.data import load_dataset

        return load_dataset("fer2013", fer2013, split).sample(n, seed)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    labels = rng.integers(0, len(EMOTIONS), n).astype(np.int64)
    return FaceSet(images, labels, EMOTIONS, names=[f"{i}.png" for i in range(n)], split=split)


def _autocast(precision: str, device: str):
    if precision.startswith("bf16"):
        return torch.autocast(device, dtype=torch.bfloat16)
    if precision.startswith("16"):
        return torch.autocast(device, dtype=torch.float16)
    return nullcontext()


def step_rate(
    model: str,
    batch_size: int,
    precision: str,
    seconds: float = 5.0,
    compile_mode: str | None = None,
    device: str = "cpu",
    in_chans: int = 1,
) -> dict:
    """Faces/s of the training step alone (augmentation, forward, loss, backward, optimiser step) on one resident
    batch on ``device``: what an epoch would cost without data handling, validation or checkpoints."""
    rec = get_recipe("ferkit", batch_size=batch_size)
    module = ExpressionModule(model, len(EMOTIONS), rec.to_dict(), compile_mode=compile_mode, in_chans=in_chans)
    module.to(device)
    module.on_fit_start()
    opt = torch.optim.SGD(module.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randint(0, 256, (batch_size, in_chans, FACE_SIZE, FACE_SIZE), dtype=torch.uint8, device=device)
    y = torch.randint(0, len(EMOTIONS), (batch_size,), device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step() -> None:
        with _autocast(precision, device.split(":")[0]):
            loss = module.step_loss((x, y))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(2):  # warm-up (and compilation)
        step()
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 2:
        step()
        n += 1
        if n % 8 == 0:
            sync()
    sync()
    sec = (time.perf_counter() - t0) / n
    return {"step_ms": round(1000 * sec, 1), "step_faces_per_s": round(batch_size / sec, 1)}


class EpochTimer(Callback):
    """Wall time of each training epoch from its start to its end, validation and checkpoint included."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds.append(time.perf_counter() - self._t0)


def epoch_time(
    model: str,
    faces: int,
    batch_size: int,
    precision: str,
    data_path: str,
    fer2013: str | None = None,
    compile_mode: str | None = None,
    epochs: int = 2,
    freed_memory: str = "keep",
) -> dict:
    """Seconds per epoch of ``ferkit train`` (``fit_faces``) on ``faces`` training faces and ``faces // 8``
    validation faces (FER2013's ratio): data, steps, validation, checkpoint and logging. Every epoch does the same
    work, so the fastest of ``epochs`` is kept (the least disturbed; the first also pays one-off set-up)."""
    from .train import fit_faces

    train_set = speed_faces(faces, fer2013, "Training")
    val_set = speed_faces(max(1, faces // 8), fer2013, "PublicTest")
    timer = EpochTimer()
    with tempfile.TemporaryDirectory(prefix="ferkit-bench-train-") as out:
        rec = replace(get_recipe("ferkit"), epochs=epochs, batch_size=batch_size)
        fit_faces(
            model,
            train_set,
            val_set,
            out,
            rec,
            accelerator="cpu",
            devices=1,
            precision=precision,
            data_path=data_path,
            compile_mode=compile_mode,
            freed_memory=freed_memory,
            extra_callbacks=[timer],
        )
    return {"epoch_seconds": round(min(timer.seconds), 2), "epoch_seconds_all": [round(s, 2) for s in timer.seconds]}


def measure_setting(
    model: str,
    batch_size: int,
    precision: str,
    data_path: str,
    freed_memory: str,
    faces: int,
    fer2013: str | None,
    seconds: float,
    compile_mode: str | None,
    epochs: int,
    threads: int,
) -> dict:
    """One setting, in this process: the step alone, then the epochs of ``fit_faces``."""
    if threads:
        torch.set_num_threads(threads)
    if freed_memory == "keep":
        keep_freed_memory()
    step = step_rate(model, batch_size, precision, seconds, compile_mode)
    ep = epoch_time(model, faces, batch_size, precision, data_path, fer2013, compile_mode, epochs, freed_memory)
    n_steps = faces // batch_size
    return {
        "precision": precision,
        "data_path": data_path,
        "freed_memory": freed_memory,
        **step,
        **ep,
        "epoch_faces_per_s": round(n_steps * batch_size / ep["epoch_seconds"], 1),
        "outside_step_share": round(max(0.0, 1 - n_steps * step["step_ms"] / 1000 / ep["epoch_seconds"]), 3),
    }


def _in_fresh_process(kw: dict) -> dict:
    """``measure_setting`` in a new process: the memory allocator setting and torch's caches start clean."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(measure_setting, kwds=kw)


def train_speed(
    model: str,
    batch_size: int = 128,
    settings: list[tuple[str, str, str]] | None = None,
    faces: int = 4096,
    fer2013: str | None = None,
    seconds: float = 5.0,
    compile_mode: str | None = None,
    epochs: int = 2,
    threads: int = 0,
    rounds: int = 1,
) -> dict:
    """Each (precision, data path, freed memory) setting of ``model`` in its own process, in one run: step
    faces/s, epoch seconds, and the share of the epoch spent outside the training step (data, validation,
    checkpoint, framework). ``rounds`` > 1 repeats the settings in turn and keeps each one's fastest epoch."""
    settings = settings or [("auto", "device", "keep")]
    best: dict[tuple, dict] = {}
    for _ in range(rounds):
        for precision, data_path, freed in settings:
            key = (resolve_precision(precision, "cpu"), data_path, freed)
            row = _in_fresh_process(
                dict(
                    model=model,
                    batch_size=batch_size,
                    precision=key[0],
                    data_path=data_path,
                    freed_memory=freed,
                    faces=faces,
                    fer2013=fer2013,
                    seconds=seconds,
                    compile_mode=compile_mode,
                    epochs=epochs,
                    threads=threads,
                )
            )
            if key not in best or row["epoch_seconds"] < best[key]["epoch_seconds"]:
                best[key] = row
    rows = list(best.values())
    base = rows[0]["epoch_seconds"]
    for r in rows:
        r["epoch_speedup_vs_first"] = round(base / r["epoch_seconds"], 2)
    return {
        "model": model,
        "batch_size": batch_size,
        "train_faces": faces,
        "val_faces": max(1, faces // 8),
        "faces_from": "FER2013" if fer2013 else "random grey faces",
        "compile": compile_mode,
        "rounds": rounds,
        "hardware": hardware(),
        "torch": torch.__version__,
        "rows": rows,
    }
