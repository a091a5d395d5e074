"""Ship a trained mask detector run into the package (ONNX + card with its measured figures)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..config import MASK_DETECTOR_DIR, MASK_DEV_PHOTOS
from ..data.masked import MaskedVsPlain
from ..expression.export import export_onnx, load_checkpoint
from ..expression.flops import count_macs
from ..io import write_json_atomic
from ..runtime.onnx import ort_session
from .dataset import masked_set_name
from .detector import MaskClassifier
from .evaluate import annotated_crops, choose_threshold, mask_detection_report


def ship_mask_detector(run: str | Path, masked: str, plain: str, photos: str | None = None,
                       reports: str | Path = "reports") -> dict:
    """Export ``run``'s best checkpoint to ``assets/mask_detector``; measure it on synthesized PublicTest and
    PrivateTest (plain vs masked) and, if ``photos`` (the annotated real photos) are given, choose its threshold
    on their design part (stored in the card) and measure it on them."""
    run, reports = Path(run), Path(reports)
    info = json.loads((run / "run.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    model, _ = load_checkpoint(run / "checkpoints" / "best.ckpt")
    export_onnx(model, MASK_DETECTOR_DIR / "model.onnx")
    ort_session.cache_clear()
    card = {"name": "ferkit_mask_detector", "architecture": info["model"], "classes": ["no_mask", "mask"],
            "params": int(sum(p.numel() for p in model.parameters())), "macs_per_face": count_macs(model),
            "input": "48x48 grey face crop, pixels 0..255",
            "data": f"FER2013 Training faces, plain and as {masked_set_name(masked)}; selection on PublicTest",
            "recipe": info["recipe"], "train_command": info["command"], "train_seconds": summary["train_seconds"],
            "train_hardware": summary["hardware"], "epochs": summary["epochs_done"],
            "ship_command": f"ferkit ship --mask-detector --run {run} --data {masked} --images {plain}"
                            + (f" --photos {photos}" if photos else "")}
    write_json_atomic(MASK_DETECTOR_DIR / "card.json", card)
    clf = MaskClassifier()
    faces = annotated_crops(photos) if photos else None  # cropped once for the threshold and the report
    if photos:
        card["threshold"], card["threshold_accuracy_design_photos"] = choose_threshold(clf, faces)
        card["threshold_chosen_on"] = f"the first {MASK_DEV_PHOTOS} photos of {photos} (with / without-mask faces)"
        clf.threshold = card["threshold"]
    for split in ("PublicTest", "PrivateTest"):
        ds = MaskedVsPlain(masked, plain, split)
        card[f"synthetic_{split.lower()}_accuracy"] = float((clf.is_masked(ds.images) == (ds.labels == 1)).mean())
    if photos:
        card["real_photos"] = {"data": str(photos), **mask_detection_report(clf, faces)}
    write_json_atomic(MASK_DETECTOR_DIR / "card.json", card)
    logs = reports / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "epochs.jsonl", logs / "mask_detector_train_epochs.jsonl")
    return {k: v for k, v in card.items() if "accuracy" in k or k == "real_photos"}
