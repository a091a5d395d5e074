"""``python -m lab ship``: put a trained run into the package as an ONNX model with a measured model card."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: F401  (fail early if missing)
import torch

from ferkit.app.analyzer import Analyzer
from ferkit.app.bench import classifier_rates, example_faces, machine_info
from ferkit.config import EMOTIONS, MODELS_DIR
from ferkit.data import FER2013
from ferkit.evaluation.evaluate import evaluate_faceset
from ferkit.evaluation.plots import plot_confusion_matrix
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.expression.export import export_onnx, load_checkpoint
from ferkit.expression.flops import count_macs
from ferkit.expression.registry import weights_label
from ferkit.utils.io import copy_atomic, write_json_atomic, write_text_atomic
from ferkit.utils.onnx import ort_session
from ferkit.utils.reports import command_line


def ship_model(
    run: str | Path, name: str, data: str, reports: str | Path = "reports", description: str | None = None
) -> dict:
    """Export ``run``'s best checkpoint as the shipped model ``name``; measure it on ``data``'s PublicTest and
    PrivateTest (FER2013 layout: the original or a masked copy) and write its card. ``description`` says what
    it was trained on when that is not plain FER2013."""
    from ferkit.masks.dataset import masked_set_name

    run, reports = Path(run), Path(reports)
    test_set = masked_set_name(data)
    summary = json.loads((run / "summary.json").read_text())
    info = json.loads((run / "run.json").read_text())
    model, _ = load_checkpoint(run / "checkpoints" / "best.ckpt")
    dest = MODELS_DIR / name
    export_onnx(model, dest / "model.onnx")
    ort_session.cache_clear()

    public, private = FER2013(data, "PublicTest"), FER2013(data, "PrivateTest")
    sample = public.images[:256]  # (N, 48, 48) grey crops, as the runtime gets them
    with torch.no_grad():
        ref = model(torch.from_numpy(sample[:, None].astype(np.float32))).numpy()
    write_json_atomic(dest / "card.json", {"name": name, "classes": list(EMOTIONS)})  # minimal card to load
    clf = ExpressionClassifier(name, precision="fp32")
    max_diff = float(np.abs(clf.predict_proba(sample) - ref).max())

    reports.mkdir(parents=True, exist_ok=True)
    figures = {}
    for ds in (public, private):
        rep, _ = evaluate_faceset(clf, ds)
        rep = {"model": name, "dataset": "fer2013", "data": str(data), "split": ds.split, **rep}
        stem = reports / f"{name}_{ds.split.lower()}"
        plot_confusion_matrix(
            np.array(rep["confusion_matrix"]),
            rep["classes"],
            f"{stem}_confusion.png",
            f"{name} on {test_set} {ds.split}: {rep['accuracy']:.2%} (n={rep['n']})",
        )
        write_json_atomic(f"{stem}.json", rep)
        figures[ds.split] = rep
    int8, faces_per_s = _int8_and_speed(clf, dest, FER2013(data, "Training"), public, private, test_set)
    logs = reports / "logs"
    logs.mkdir(exist_ok=True)
    copy_atomic(run / "epochs.jsonl", logs / f"{name}_train_epochs.jsonl")
    distillation = _distillation(info)
    taught = f", distilled from {distillation['teacher_model']}" if distillation else ""
    card = {
        "name": name,
        "description": info.get("description", f"{info['model']} trained on {test_set} Training{taught}"),
        "architecture": info["model"],
        "classes": list(EMOTIONS),
        "input": "48x48 grey face crop, pixels 0..255",
        "params": int(sum(p.numel() for p in model.parameters())),
        "macs_per_face": count_macs(model),
        "data": description or "FER2013 Training (28,709 faces); selection on PublicTest; reported on PrivateTest",
        "recipe": info["recipe"],
        "train_command": info["command"],
        "ship_command": command_line(),
        "train_hardware": summary["hardware"],
        "train_seconds": summary["train_seconds"],
        "train_precision": summary.get("precision")
        or _flag(info["command"], "--train-precision")
        or _flag(info["command"], "--precision")  # runs recorded before the option was renamed
        or "32-true",
        "epochs": summary["epochs_done"],
        "publictest_accuracy": figures["PublicTest"]["accuracy"],
        "privatetest_accuracy": figures["PrivateTest"]["accuracy"],
        "privatetest_macro_f1": figures["PrivateTest"]["macro_f1"],
        "faces_per_s": faces_per_s,
        "faces_per_s_machine": machine_info(),
        "test_set": test_set,
        "onnx_vs_torch_max_abs_diff": max_diff,
        "int8": int8,
        "distillation": distillation,
        "init": weights_label(info.get("init")),
    }
    write_json_atomic(dest / "card.json", card)
    write_text_atomic(dest / "MODEL_CARD.md", model_card_markdown(card))
    write_text_atomic(reports / f"{name}_card.md", model_card_markdown(card))
    return {
        k: card[k]
        for k in (
            "name",
            "publictest_accuracy",
            "privatetest_accuracy",
            "faces_per_s",
            "onnx_vs_torch_max_abs_diff",
            "int8",
        )
    }


def _int8_and_speed(
    clf: ExpressionClassifier, dest: Path, train: FER2013, public: FER2013, private: FER2013, set_name: str = "FER2013"
) -> tuple[dict, float]:
    """Quantize ``dest/model.onnx`` into ``dest/model_int8.onnx`` (calibrated on 1,000 Training faces), score the int8
    copy on PublicTest and PrivateTest, and time both precisions on this machine: (card's ``int8`` entry,
    fp32 faces/s)."""
    from ferkit.expression.quantize import CALIBRATION_NOTE, quantize_int8

    int8_path = quantize_int8(dest / "model.onnx", dest / "model_int8.onnx", train.images[::28][:1000])
    ort_session.cache_clear()
    int8_clf = ExpressionClassifier(str(int8_path))
    int8 = {"file": int8_path.name, "calibration": f"1,000 {set_name} Training faces (every 28th), {CALIBRATION_NOTE}"}
    for ds in (public, private):
        rep, _ = evaluate_faceset(int8_clf, ds)
        int8[f"{ds.split.lower()}_accuracy"] = rep["accuracy"]
    pool = example_faces(Analyzer(model=clf))  # timing only the classifiers, at batch 256
    faces_per_s = classifier_rates(clf, pool, 3.0)["256"]
    int8["faces_per_s"] = classifier_rates(int8_clf, pool, 3.0)["256"]
    return int8, faces_per_s


def requantize_model(name: str, data: str, reports: str | Path = "reports") -> dict:
    """Quantize the shipped model ``name`` again from its fp32 ONNX file (e.g. after a change of quantization
    settings) and refresh its card's int8 figures and both speeds, measured on this machine; no training run needed."""
    dest, reports = MODELS_DIR / name, Path(reports)
    card = json.loads((dest / "card.json").read_text())
    clf = ExpressionClassifier(name, precision="fp32")
    card["int8"], card["faces_per_s"] = _int8_and_speed(
        clf,
        dest,
        FER2013(data, "Training"),
        FER2013(data, "PublicTest"),
        FER2013(data, "PrivateTest"),
        card.get("test_set", "FER2013"),
    )
    card["faces_per_s_machine"] = machine_info()
    card["requantize_command"] = command_line()
    write_json_atomic(dest / "card.json", card)
    write_text_atomic(dest / "MODEL_CARD.md", model_card_markdown(card))
    write_text_atomic(reports / f"{name}_card.md", model_card_markdown(card))
    return {"name": name, "int8": card["int8"], "faces_per_s": card["faces_per_s"]}


def _distillation(info: dict) -> dict | None:
    """The teacher a run was distilled from (its stored-outputs file and the model that wrote it) and the loss."""
    if not info.get("teacher"):
        return None
    from ferkit.training.teacher import TeacherOutputs

    r = info["recipe"]
    loss = r.get("kd_loss", "hinton")
    teacher = TeacherOutputs.load(info["teacher"]).model if Path(info["teacher"]).is_file() else "not kept"
    return {
        "teacher_file": info["teacher"],
        "teacher_model": teacher,
        "loss": loss,
        "alpha": r["kd_alpha"],
        **({"temperature": r["kd_temperature"]} if loss == "hinton" else {}),
    }


def _distillation_line(c: dict) -> str:
    d = c.get("distillation")
    if not d:
        return ""
    extra = f", T {d['temperature']}" if "temperature" in d else ""
    return (
        f"| distillation | from `{d['teacher_model']}` (outputs stored in `{d['teacher_file']}`), loss `{d['loss']}`, "
        f"hard-label weight {d['alpha']}{extra} |\n"
    )


def model_card_markdown(c: dict) -> str:
    r, m, q = c["recipe"], c["faces_per_s_machine"], c["int8"]
    test_set = c.get("test_set", "FER2013")
    recipe = (
        f"`{r['name']}`: {r['epochs']} epochs, batch {r['batch_size']}, {r['optimizer']} lr {r['lr']} "
        f"({r['schedule']}, warm-up {r['warmup_epochs']} epochs), weight decay {r['weight_decay']}, label smoothing "
        f"{r['label_smoothing']}; augmentation rotation +-{r['rotation']} deg, zoom +-{r['scale']}, shift "
        f"+-{r['shift']}, flips {r['hflip']}, random erasing p={r['erase']}"
    )
    rows = [
        (
            "architecture",
            f"`{c['architecture']}`: {c['params']:,} parameters, "
            f"{c['macs_per_face'] / 1e6:.1f} M multiply-adds per face",
        ),
        ("input", c["input"]),
        ("classes", ", ".join(c["classes"])),
        ("data", c["data"]),
        ("recipe", recipe),
        (
            "training",
            f"{c['epochs']} epochs in {c['train_seconds'] / 60:.0f} min on {c['train_hardware']}"
            f"{_precision(c)}{_init(c)}",
        ),
    ]
    table = "".join(f"| {k} | {v} |\n" for k, v in rows) + _distillation_line(c)
    table += "".join(
        f"| {k} | {v} |\n"
        for k, v in [
            (
                f"**{test_set} PrivateTest accuracy**",
                f"**{c['privatetest_accuracy']:.2%}** (macro F1 {c['privatetest_macro_f1']:.3f})",
            ),
            (f"{test_set} PublicTest accuracy (selection split)", f"{c['publictest_accuracy']:.2%}"),
            (
                "speed",
                f"**{c['faces_per_s']:,.0f} faces/s** (ONNX Runtime, batch 256, {m['cores']} CPU cores, "
                f"{m['cpu']} {m.get('cpu_isa', '')})",
            ),
            (
                "ONNX vs PyTorch",
                f"max abs difference of probabilities {c['onnx_vs_torch_max_abs_diff']:.2e} on 256 PublicTest faces",
            ),
            (
                f"int8 (`{q['file']}`, the runtime default)",
                f"PrivateTest **{q['privatetest_accuracy']:.2%}**, PublicTest {q['publictest_accuracy']:.2%}, "
                f"**{q['faces_per_s']:,.0f} faces/s**; calibration: {q['calibration']}",
            ),
        ]
    )
    requantize = "\n" + c["requantize_command"] if c.get("requantize_command") else ""
    return f"""# Model card: `{c["name"]}`

*Generated by `python -m lab ship` from the training run and fresh measurements; do not edit by hand.*

| | |
|---|---|
{table}
Recreate:

```
{c["train_command"]}
{c["ship_command"]}{requantize}
```

Logs: `reports/logs/{c["name"]}_train_epochs.jsonl` (per-epoch metrics), `reports/{c["name"]}_privatetest.json` and
`reports/{c["name"]}_privatetest_confusion.png`.
"""


def _init(card: dict) -> str:
    """'; started from <weights>' for a run that began from trained weights (``train --init``), else ''."""
    return f"; started from `{card['init']}`" if card.get("init") else ""


def _precision(card: dict) -> str:
    """', bf16-mixed precision' for a run not trained in plain fp32 (cards written before it was recorded: '')."""
    p = card.get("train_precision", "32-true")
    return "" if p in ("32-true", "32") else f", {p} precision"


def _flag(command: str, name: str) -> str | None:
    """The value of ``name`` in a recorded command line (runs from before summary.json recorded it)."""
    words = shlex.split(command)
    return next((words[i + 1] for i, w in enumerate(words[:-1]) if w == name), None)
