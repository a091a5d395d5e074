"""Measure how a detector's box frames FER2013 faces, to set config.CROP_SCALE and CROP_SHIFT.

Each sampled PublicTest face is upscaled x4 and padded, the detector runs on it, and the detected
square box side is compared with the FER2013 image side. Writes reports/face_framing.{json,md}.
    python scripts/measure_framing.py --data ../shared/data/fer2013_images.zip
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from ferkit.data import FER2013
from ferkit.detection import create_detector
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.face.preprocess import Framing, crop_faces
from ferkit.utils.reports import write_report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--detector", default="mtcnn")
    ap.add_argument("--every", type=int, default=12)
    ap.add_argument("--out", default="reports/face_framing.json")
    ap.add_argument(
        "--model", default="default", help="the expression model scored on both crops (keys keep 'default_model')"
    )
    a = ap.parse_args()
    ds = FER2013(a.data, "PublicTest")
    det = create_detector(a.detector, **({"min_face": 40} if a.detector == "mtcnn" else {}))
    framing = Framing.of(det.name)  # the configured one, as `ferkit analyze` crops
    rel, cx, cy, crops, used, marks = [], [], [], [], [], []
    for i in range(0, len(ds), a.every):
        im = cv2.copyMakeBorder(
            cv2.resize(ds.images[i], (192, 192), interpolation=cv2.INTER_CUBIC),
            96,
            96,
            96,
            96,
            cv2.BORDER_CONSTANT,
            value=0,
        )
        found = det.detect(im)
        if not found:
            continue
        face = max(found, key=lambda d: d.box[2] - d.box[0])
        crops.append(crop_faces(im, [face], framing)[0])
        used.append(i)
        b = face.box - 96
        if face.landmarks is not None:
            marks.append((face.landmarks - 96) / 4)  # in FER2013's 48 px frame
        rel.append(max(b[2] - b[0], b[3] - b[1]) / 192)
        cx.append((b[0] + b[2]) / 384)
        cy.append((b[1] + b[3]) / 384)
    med = float(np.median(rel))
    clf = ExpressionClassifier(a.model)  # what framing costs: the model on the pipeline's crops vs FER's own
    acc_crops = float((clf.predict_proba(np.stack(crops)).argmax(1) == ds.labels[used]).mean())
    acc_fer = float((clf.predict_proba(ds.images[used]).argmax(1) == ds.labels[used]).mean())
    rep = {
        "detector": a.detector,
        "model": clf.name,
        "sampled": len(range(0, len(ds), a.every)),
        "detected": len(rel),
        "box_side_over_fer_side_median": round(med, 4),
        "box_side_over_fer_side_iqr": [round(float(v), 4) for v in np.percentile(rel, [25, 75])],
        "box_centre_median": [round(float(np.median(cx)), 4), round(float(np.median(cy)), 4)],
        "crop_scale": round(1 / med, 3),
        "crop_shift": round(0.5 - float(np.median(cy)), 3),
        "configured_framing": [framing.scale, framing.shift],
        "landmark_template_48": (np.median(np.array(marks, float), 0).round(2).tolist() if marks else None),
        "default_model_accuracy_on_pipeline_crops": round(acc_crops, 4),
        "default_model_accuracy_on_fer2013_crops_same_faces": round(acc_fer, 4),
    }
    write_report(
        a.out,
        rep,
        f"How {a.detector} boxes frame FER2013 faces",
        "\ncrop_scale = 1 / median(box side / FER2013 side): a crop of crop_scale x the box side "
        "reproduces FER2013's framing; crop_shift = 0.5 - the median box centre height (in FER2013 sides): "
        "where the crop's centre lies relative to the box centre, in crop sides (config CROP_SHIFT); "
        "landmark_template_48: the median landmark positions in FER2013's 48 px frame (config FACE_TEMPLATE). "
        f"The expression model ({clf.name}) is scored on the detected faces cropped with the configured framing "
        "(as `ferkit analyze` crops them) and on FER2013's own crops of the same faces.\n",
    )
    print(json.dumps(rep))  # the log's copy of the figures


if __name__ == "__main__":
    main()
