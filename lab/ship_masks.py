"""Ship a trained mask detector run into the package (ONNX + card with its measured figures)."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.config import MASK_COLOUR_WEIGHTS, MASK_DETECTOR_DIR, MASK_DEV_PHOTOS, MASK_PHOTO_DETECTOR_DIR
from ferkit.data.masked import MaskedVsPlain, annotated_faces, photo_split
from ferkit.expression.export import export_onnx, load_checkpoint
from ferkit.expression.flops import count_macs
from ferkit.masks.dataset import masked_set_name
from ferkit.masks.detector import MaskClassifier, MaskDetector, colour_alone
from ferkit.masks.evaluate import choose_threshold, mask_detection_report
from ferkit.utils.io import copy_atomic, write_json_atomic
from ferkit.utils.onnx import ort_session
from ferkit.utils.reports import command_line


def ship_mask_detector(
    run: str | Path, masked: str, plain: str, photos: str | None = None, reports: str | Path = "reports"
) -> dict:
    """Export ``run``'s best checkpoint to ``assets/mask_detector``; measure it on synthesized PublicTest and
    PrivateTest (plain vs masked) and, if ``photos`` (the annotated real photos) are given, choose its threshold
    on their design part (stored in the card) and measure it on them."""
    run, reports = Path(run), Path(reports)
    info = json.loads((run / "run.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    model, _ = load_checkpoint(run / "checkpoints" / "best.ckpt")
    export_onnx(model, MASK_DETECTOR_DIR / "model.onnx")
    ort_session.cache_clear()
    card = {
        "name": "ferkit_mask_detector",
        "architecture": info["model"],
        "classes": ["no_mask", "mask"],
        "params": int(sum(p.numel() for p in model.parameters())),
        "macs_per_face": count_macs(model),
        "input": "48x48 grey face crop, pixels 0..255",
        "data": f"FER2013 Training faces, plain and as {masked_set_name(masked)}; selection on PublicTest",
        "recipe": info["recipe"],
        "train_command": info["command"],
        "train_seconds": summary["train_seconds"],
        "train_hardware": summary["hardware"],
        "epochs": summary["epochs_done"],
        "ship_command": command_line(),
    }
    write_json_atomic(MASK_DETECTOR_DIR / "card.json", card)
    clf = MaskClassifier()
    faces = annotated_faces(photos) if photos else None  # cropped once for the threshold and the report
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
    copy_atomic(run / "epochs.jsonl", logs / "mask_detector_train_epochs.jsonl")
    return {k: v for k, v in card.items() if "accuracy" in k or k == "real_photos"}


def ship_photo_mask_detector(run: str | Path, reports: str | Path = "reports") -> dict:
    """Export a run trained on real photos (``--dataset mask_photos``) to ``assets/mask_detector_photos``; on the
    validation photos choose the weight of its mean with the grey classifier (``MaskDetector``) and the threshold
    (stored in the card with the photos it trained and validated on); measure that on the held-out photos."""
    run, reports = Path(run), Path(reports)
    info = json.loads((run / "run.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    photos = info["data"]
    model, _ = load_checkpoint(run / "checkpoints" / "best.ckpt")
    dest = MASK_PHOTO_DETECTOR_DIR
    export_onnx(model, dest / "model.onnx")
    ort_session.cache_clear()
    train, val = sorted(photo_split(photos, "train")), sorted(photo_split(photos, "val"))
    card = {
        "name": "ferkit_mask_detector_photos",
        "architecture": info["model"],
        "classes": ["no_mask", "mask"],
        "params": int(sum(p.numel() for p in model.parameters())),
        "macs_per_face": count_macs(model),
        "input": "48x48 colour (BGR) face crop, pixels 0..255",
        "data": f"the with / without-mask faces of {len(train)} photos of {photos} (colour crops); epoch "
        f"selected on {len(val)} others; the held-out third of the photos never seen",
        "recipe": info["recipe"],
        "train_command": info["command"],
        "train_seconds": summary["train_seconds"],
        "train_hardware": summary["hardware"],
        "epochs": summary["epochs_done"],
        "ship_command": command_line(),
        "trained_on": train,
        "validated_on": val,
    }
    write_json_atomic(dest / "card.json", card)
    faces = annotated_faces(photos)
    tried = {}
    for w in MASK_COLOUR_WEIGHTS:  # the mean with the grey classifier that analyze uses on colour images
        t, table = choose_threshold(MaskDetector(colour_weight=w), faces, set(val))
        tried[w] = (table[f"{t:g}"], t, table)
    w = max(tried, key=lambda k: (tried[k][0], tried[k][1], k))
    card.update(
        colour_weight=w,
        threshold=tried[w][1],
        threshold_accuracy_validation_photos=tried[w][2],
        validation_accuracy_by_colour_weight={f"{k:g}": v[0] for k, v in tried.items()},
        threshold_by_colour_weight={f"{k:g}": v[1] for k, v in tried.items()},
        threshold_chosen_on=f"the {len(val)} validation photos of {photos} (with / without-mask faces)",
    )
    write_json_atomic(dest / "card.json", card)
    card["real_photos"] = {"data": str(photos), **mask_detection_report(MaskDetector(), faces)}
    card["real_photos_colour_alone"] = mask_detection_report(colour_alone(), faces)["accuracy"]
    write_json_atomic(dest / "card.json", card)
    logs = reports / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    copy_atomic(run / "epochs.jsonl", logs / "mask_detector_photos_train_epochs.jsonl")
    return {
        k: card[k]
        for k in (
            "colour_weight",
            "threshold",
            "validation_accuracy_by_colour_weight",
            "real_photos",
            "real_photos_colour_alone",
        )
    }
