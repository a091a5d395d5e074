"""Choose the expression crop's template zoom and fit the default model's crowd calibration; write the calibration.

- scale and bias (ferkit/expression/calibration.py): fitted to the FER+ vote distributions of FER2013 PublicTest
  (validation) faces;
- uncertain_below: the highest top-probability bin edge (0.05 grid) whose PublicTest faces' FER+ majority labels are
  right less than half the time, so a flagged face's label is more often wrong than right;
- the template zoom (config TEMPLATE_ZOOMS) and prior_weight (PRIOR_WEIGHTS): chosen together on the real photos of
  muxspace_dev (validation; the largest face of each photo through the default detector), the choices made there.
  Each zoom is also scored on FER2013 PublicTest faces through the detector (every third face from the second,
  upscaled x4 and padded as scripts/measure_framing.py does; the template was measured on the others).
- the smallest face the template is used on (config TEMPLATE_MIN_FACE): the PublicTest faces the template was not
  measured on (two in three) shown at each of TEMPLATE_FACE_SIZES px, box framing against the template (config
  zoom); the median detected box side at the smallest size from which the template scores higher at every larger
  size.
FER2013 PublicTest / PrivateTest (FER2013's own labels) and FER+ figures are reported for every calibration choice.
Writes src/ferkit/assets/models/<model>/calibration.json and reports/calibration.{md,json}; config TEMPLATE_ZOOM
must be the zoom chosen here (a test checks it).
    python scripts/select_crop_and_calibration.py --ferplus ../shared/data/ferplus \
        --fer2013 ../shared/data/fer2013_images.zip --photos ../shared/data/muxspace_dev.tar
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ferkit.config import (
    DEFAULT_DETECTOR,
    DEFAULT_MODEL,
    MODELS_DIR,
    TEMPLATE_FACE_SIZES,
    TEMPLATE_ZOOM,
    TEMPLATE_ZOOMS,
)
from ferkit.data.fer2013 import FER2013
from ferkit.data.ferplus import FERPlus
from ferkit.data.photos import LabelledPhotos
from ferkit.detection.registry import create_detector
from ferkit.evaluation.photos import largest_face
from ferkit.expression.calibration import CALIBRATION_FILE, Calibration
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.face.preprocess import Framing, crop_faces
from ferkit.utils.io import write_json_atomic
from ferkit.utils.reports import write_report

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
    fp = {
        s: FERPlus(Path(a.ferplus) / "fer2013new.csv", Path(a.ferplus) / "ferplus_images.zip", s)
        for s in ("PublicTest", "PrivateTest")
    }
    fp_probs = {s: clf.predict_proba(d.images) for s, d in fp.items()}
    base = Calibration.fit(fp_probs["PublicTest"], fp["PublicTest"].votes)
    f13 = {s: FER2013(a.fer2013, s) for s in ("PublicTest", "PrivateTest")}
    f13_probs = {s: clf.predict_proba(d.images) for s, d in f13.items()}
    photos = LabelledPhotos.load(a.photos)
    det = create_detector(DEFAULT_DETECTOR)
    faces = [largest_face(det.detect(img)) for img in photos.images]
    found = np.array([f is not None for f in faces])
    sizes = {
        s: _publictest_crops(f13["PublicTest"], det, (0.0, TEMPLATE_ZOOM), s, every_other=True)
        for s in TEMPLATE_FACE_SIZES
    }
    size_rows = {}
    for s, c in sizes.items():
        y = f13["PublicTest"].labels[c["used"]]
        size_rows[s] = {
            "faces": len(y),
            "median_box_side": c["box_side"],
            "box_framing": round(float((clf.predict(c[0.0]) == y).mean()), 4),
            "template": round(float((clf.predict(c[TEMPLATE_ZOOM]) == y).mean()), 4),
        }
    wins = [
        s
        for s in TEMPLATE_FACE_SIZES
        if all(size_rows[t]["template"] > size_rows[t]["box_framing"] for t in TEMPLATE_FACE_SIZES if t >= s)
    ]
    min_face = round(size_rows[wins[0]]["median_box_side"]) if wins else None
    box = Framing.of(DEFAULT_DETECTOR)
    photo_probs = {}
    for z in (0.0, *TEMPLATE_ZOOMS):
        framing = Framing(box.scale, box.shift, z, min_face or 0)
        photo_probs[z] = clf.predict_proba(
            np.stack([crop_faces(img, [f], framing)[0] for img, f in zip(photos.images, faces) if f is not None])
        )
    publictest_crops = _publictest_crops(f13["PublicTest"], det, (0.0, *TEMPLATE_ZOOMS))
    publictest_crops.pop("box_side")
    public_used = f13["PublicTest"].labels[publictest_crops.pop("used")]

    def figures(cal: Calibration | None, zoom: float) -> dict:
        f = (lambda p: p) if cal is None else cal.apply
        pred = np.full(len(photos), -1)
        pred[found] = f(photo_probs[zoom]).argmax(1)
        return {
            "photos_right": round(float((pred == photos.labels).mean()), 4),
            **{
                f"fer2013_{s.lower()}": round(float((f(p).argmax(1) == f13[s].labels).mean()), 4)
                for s, p in f13_probs.items()
            },
            **{
                f"ferplus_{s.lower()}": round(float((f(p).argmax(1) == fp[s].labels).mean()), 4)
                for s, p in fp_probs.items()
            },
        }

    crops = {
        z: {
            "photos_right_uncalibrated": figures(None, z)["photos_right"],
            "publictest_pipeline_crops": round(float((clf.predict(c) == public_used).mean()), 4),
        }
        for z, c in publictest_crops.items()
    }
    grid = {
        (z, w): figures(replace(base, prior_weight=w), z)["photos_right"] for z in TEMPLATE_ZOOMS for w in PRIOR_WEIGHTS
    }
    zoom, best = max(grid, key=lambda k: (grid[k], -abs(k[0] - 1), -k[1]))  # ties: the plainer choice
    rows = {"uncalibrated": figures(None, zoom)}
    rows.update({f"prior_weight {w}": figures(replace(base, prior_weight=w), zoom) for w in PRIOR_WEIGHTS})
    cal = replace(base, prior_weight=best)
    cal = replace(
        cal,
        uncertain_below=uncertain_threshold(cal.apply(fp_probs["PublicTest"]), fp["PublicTest"].labels),
        source={
            "scale_bias": f"fitted to FER+ votes of FER2013 PublicTest ({len(fp['PublicTest'])} faces)",
            "prior": "mean FER+ vote share on PublicTest",
            "prior_weight": f"chosen among {list(PRIOR_WEIGHTS)} with the template zoom {zoom} (among "
            f"{list(TEMPLATE_ZOOMS)}) on the real photos of {Path(a.photos).name}",
            "uncertain_below": "FER+ PublicTest: the highest 0.05 bin whose majority labels are right "
            "under half the time",
            "precision": clf.precision,
        },
    )
    write_json_atomic(MODELS_DIR / a.model / CALIBRATION_FILE, cal.to_dict())
    cols = list(rows["uncalibrated"])
    md = (
        "\n## Crop: box framing (zoom 0) or landmark template at each zoom\n\nThe default model's largest-face "
        "label on the photos without calibration, and its accuracy on FER2013 PublicTest faces cropped through the "
        "detector.\n\n"
        + _table(
            ["zoom", "photos right", "PublicTest pipeline crops"],
            [
                [z, f"{r['photos_right_uncalibrated']:.2%}", f"{r['publictest_pipeline_crops']:.2%}"]
                for z, r in crops.items()
            ],
        )
        + "\n## Zoom x prior weight on the photos (calibrated)\n\n"
        + _table(["zoom", *PRIOR_WEIGHTS], [[z, *(f"{grid[z, w]:.2%}" for w in PRIOR_WEIGHTS)] for z in TEMPLATE_ZOOMS])
        + "\n## Template or box framing by face size (FER2013 PublicTest faces shown at each size)\n\n"
        + _table(
            ["face side (px)", "faces found", "median box side", "box framing", "template"],
            [
                [s, r["faces"], r["median_box_side"], f"{r['box_framing']:.2%}", f"{r['template']:.2%}"]
                for s, r in size_rows.items()
            ],
        )
        + f"\nTemplate from a box side of {min_face} px (config TEMPLATE_MIN_FACE).\n"
        + f"\n## Calibration choices at zoom {zoom}\n\nRows: the model's largest-face label on the photos (share "
        "right of all photos), and its accuracy against FER2013's single labels and FER+ majority labels, without "
        "and with the calibration.\n\n"
        + _table(["calibration", *cols], [[k, *(f"{v:.2%}" for v in r.values())] for k, r in rows.items()])
    )
    write_report(
        a.json,
        {
            "model": a.model,
            "precision": clf.precision,
            "photos": Path(a.photos).name,
            "chosen_template_zoom": zoom,
            "chosen_prior_weight": best,
            "template_min_face": min_face,
            "by_face_size": {str(k): v for k, v in size_rows.items()},
            "uncertain_below": cal.uncertain_below,
            "scale": list(cal.scale),
            "bias": list(cal.bias),
            "photos_found": int(found.sum()),
            "crops": {str(z): r for z, r in crops.items()},
            "zoom_x_prior_weight": {f"{z} x {w}": v for (z, w), v in grid.items()},
            "rows": rows,
        },
        f"Crop zoom and crowd calibration of {a.model}",
        md,
        tabled=("rows", "crops", "zoom_x_prior_weight", "by_face_size"),
    )
    print(md)


def _table(head: list, rows: list[list]) -> str:
    """A Markdown table."""
    lines = [f"| {' | '.join(map(str, head))} |", "|" + "---|" * len(head)]
    return "\n".join(lines + [f"| {' | '.join(map(str, r))} |" for r in rows]) + "\n"


def _publictest_crops(ds: FER2013, det, zooms: tuple[float, ...], side: int = 192, every_other: bool = False) -> dict:
    """Crops of every third PublicTest face from the second (``every_other``: all faces but every third from the
    first, on which the template was measured), each resized to ``side`` px and padded by half its side
    (scripts/measure_framing.py's x4), through the detector, at each zoom (0: the box framing; templates on faces of
    any size); ``used``: the faces found, ``box_side``: the median detected box side."""
    box = Framing.of(DEFAULT_DETECTOR)
    out: dict = {z: [] for z in zooms}
    out["used"], sides = [], []
    for i in (i for i in range(len(ds)) if i % 3) if every_other else range(1, len(ds), 3):
        interpolation = cv2.INTER_CUBIC if side > 48 else cv2.INTER_AREA
        face_img = cv2.resize(ds.images[i], (side, side), interpolation=interpolation)
        im = cv2.copyMakeBorder(face_img, side // 2, side // 2, side // 2, side // 2, cv2.BORDER_CONSTANT, value=0)
        face = largest_face(det.detect(im))
        if face is None:
            continue
        out["used"].append(i)
        sides.append(float(max(face.box[2] - face.box[0], face.box[3] - face.box[1])))
        for z in zooms:
            out[z].append(crop_faces(im, [face], Framing(box.scale, box.shift, z))[0])
    return {
        **{k: (np.stack(v) if k != "used" else v) for k, v in out.items()},
        "box_side": round(float(np.median(sides)), 1),
    }


if __name__ == "__main__":
    main()
