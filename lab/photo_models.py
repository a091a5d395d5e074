"""reports/photo_models.{md,json}: candidate expression models through the same full pipeline on real photos
(``python -m lab photo-models``): the default detector, the landmark-template crop, no calibration (only the default
has a crowd calibration, so every model is compared raw), the largest face of each labelled photo against its
label. A model earns a place in the package only where it does not get worse here (validation photos: muxspace_dev);
speed is `ferkit bench`'s and the model cards' to measure."""

from __future__ import annotations

from pathlib import Path

from ferkit.app.analyzer import Analyzer
from ferkit.app.bench import machine_info
from ferkit.config import DEFAULT_DETECTOR, DEFAULT_MODEL
from ferkit.data.photos import LabelledPhotos
from ferkit.detection.registry import create_detector
from ferkit.evaluation.photos import score_photos
from ferkit.expression.models import load_classifier
from ferkit.utils.reports import write_report


def photo_models_report(photos: str, models: list[str], out: str | Path) -> dict:
    """Score ``models`` (specs as ``--model`` takes them; the default first) on ``photos``; write the report."""
    labelled = LabelledPhotos.load(photos)
    detector = create_detector(DEFAULT_DETECTOR)
    rows = {}
    for spec in dict.fromkeys([DEFAULT_MODEL, *models]):
        clf = load_classifier(spec)  # a shipped model's int8 copy, as `analyze` runs it; a checkpoint in fp32
        summary = score_photos(Analyzer(detector, clf, calibrate=False), labelled).summary()
        rows[spec] = {
            "found": summary["found"],
            "right": summary["right"],
            "accuracy": summary["accuracy"],
            "recall_per_class": summary["recall_per_class"],
            "precision": getattr(clf, "precision", "fp32 (PyTorch)"),
        }
        print(spec, rows[spec]["accuracy"], flush=True)
    rep = {
        "photos": Path(photos).name,
        "n": len(labelled),
        "detector": DEFAULT_DETECTOR,
        "calibrated": False,
        "models": rows,
        "machine": machine_info(),
    }
    write_report(out, rep, "Candidate models through the full pipeline on real photos", _markdown(rep), ("models",))
    return rep


def _markdown(rep: dict) -> str:
    lines = [
        f"\n{rep['n']} labelled photos ({rep['photos']}, validation), detector `{rep['detector']}`, no calibration; "
        "accuracy: the largest face's label against the photo's, over all photos (a photo without a face counts "
        "wrong).\n",
        "| model | precision | faces found | right | accuracy |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{m}` | {r['precision']} | {r['found']} | {r['right']} | {r['accuracy']:.2%} |"
        for m, r in rep["models"].items()
    ]
    return "\n".join(lines) + "\n"
