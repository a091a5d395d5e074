"""Fit the default model's crowd calibration (ferkit/expression/calibration.py) and write it beside the model.

- scale and bias: fitted to the FER+ vote distributions of FER2013 PublicTest (validation) faces;
- uncertain_below: the highest top-probability bin edge (0.05 grid) whose PublicTest faces' FER+ majority labels are
  right less than half the time, so a flagged face's label is more often wrong than right;
- prior_weight: chosen among PRIOR_WEIGHTS on the real photos of muxspace_dev (validation; the largest face of each
  photo through the default pipeline), the one choice made there.
FER2013 PublicTest / PrivateTest (FER2013's own labels) and FER+ PrivateTest figures are reported for every choice.
Writes src/ferkit/assets/models/<model>/calibration.json and reports/calibration.{md,json}.
    python scripts/fit_calibration.py --ferplus ../shared/data/ferplus --fer2013 ../shared/data/fer2013_images.zip \
        --photos ../shared/data/muxspace_dev.tar
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from ferkit.config import DEFAULT_MODEL, MODELS_DIR
from ferkit.data.fer2013 import FER2013
from ferkit.data.ferplus import FERPlus
from ferkit.data.photos import LabelledPhotos
from ferkit.evaluation.photos import score_photos
from ferkit.evaluation.reports import write_report
from ferkit.expression.calibration import CALIBRATION_FILE, Calibration
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.io import write_json_atomic
from ferkit.runtime.analyzer import Analyzer

PRIOR_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
BIN = 0.05
MIN_BIN_FACES = 20


def uncertain_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The highest bin edge t whose faces with top probability in [t - BIN, t) are right under half the time."""
    top, right = probs.max(1), probs.argmax(1) == labels
    t_best = 0.0
    for t in np.arange(BIN, 1.0 + 1e-9, BIN):
        sel = (top >= t - BIN) & (top < t)
        if sel.sum() >= MIN_BIN_FACES and right[sel].mean() < 0.5:
            t_best = round(float(t), 2)
    return t_best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--ferplus", required=True, help="folder with fer2013new.csv and ferplus_images.zip")
    ap.add_argument("--fer2013", required=True, help="FER2013 Kaggle images (zip or folder)")
    ap.add_argument("--photos", required=True, help="labelled photos (labels.csv + images/): muxspace_dev.tar")
    ap.add_argument("--json", default="reports/calibration.json")
    a = ap.parse_args()
    clf = ExpressionClassifier(a.model)
    fp = {s: FERPlus(Path(a.ferplus) / "fer2013new.csv", Path(a.ferplus) / "ferplus_images.zip", s)
          for s in ("PublicTest", "PrivateTest")}
    fp_probs = {s: clf.predict_proba(d.images) for s, d in fp.items()}
    base = Calibration.fit(fp_probs["PublicTest"], fp["PublicTest"].votes)
    f13 = {s: FER2013(a.fer2013, s) for s in ("PublicTest", "PrivateTest")}
    f13_probs = {s: clf.predict_proba(d.images) for s, d in f13.items()}
    photos = LabelledPhotos.load(a.photos)
    raw = score_photos(Analyzer(model=clf, calibrate=False), photos)

    def figures(cal: Calibration | None) -> dict:
        f = (lambda p: p) if cal is None else cal.apply
        pred = np.where(raw.found, f(raw.probabilities).argmax(1), -1)
        return {"photos_right": round(float((pred == raw.labels).mean()), 4),
                **{f"fer2013_{s.lower()}": round(float((f(p).argmax(1) == f13[s].labels).mean()), 4)
                   for s, p in f13_probs.items()},
                **{f"ferplus_{s.lower()}": round(float((f(p).argmax(1) == fp[s].labels).mean()), 4)
                   for s, p in fp_probs.items()}}

    rows = {"uncalibrated": figures(None)}
    rows.update({f"prior_weight {w}": figures(replace(base, prior_weight=w)) for w in PRIOR_WEIGHTS})
    best = max(PRIOR_WEIGHTS, key=lambda w: (rows[f"prior_weight {w}"]["photos_right"], -w))
    cal = replace(base, prior_weight=best)
    cal = replace(cal, uncertain_below=uncertain_threshold(cal.apply(fp_probs["PublicTest"]), fp["PublicTest"].labels),
                  source={"scale_bias": f"fitted to FER+ votes of FER2013 PublicTest ({len(fp['PublicTest'])} faces)",
                          "prior": "mean FER+ vote share on PublicTest",
                          "prior_weight": f"chosen among {list(PRIOR_WEIGHTS)} on the real photos of {Path(a.photos).name}",
                          "uncertain_below": "FER+ PublicTest: the highest 0.05 bin whose majority labels are right "
                                             "under half the time", "precision": clf.precision})
    write_json_atomic(MODELS_DIR / a.model / CALIBRATION_FILE, cal.to_dict())
    md = ("\n## Choices\n\nRows: the model's largest-face label on the photos (share right of all photos), and its "
          "accuracy against FER2013's single labels and FER+ majority labels, without and with the calibration.\n\n"
          "| calibration | " + " | ".join(rows["uncalibrated"]) + " |\n|---|" + "---|" * len(rows["uncalibrated"]) + "\n"
          + "".join(f"| {k} | " + " | ".join(f"{v:.2%}" for v in r.values()) + " |\n" for k, r in rows.items()))
    write_report(a.json, {"model": a.model, "precision": clf.precision, "photos": Path(a.photos).name,
                          "chosen_prior_weight": best, "uncertain_below": cal.uncertain_below,
                          "scale": list(cal.scale), "bias": list(cal.bias), "rows": rows},
                 f"Crowd calibration of {a.model}", md, tabled=("rows",))
    print(md)


if __name__ == "__main__":
    main()
