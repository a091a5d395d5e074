"""Real photos: the scale benchmark of every detector, the full pipeline on labelled photos (muxspace_dev, a
validation set) for each detector x model that matters, the labels the default gives the Solvay photo, and the
default model's FER2013 PrivateTest. Writes reports/real_photos.{md,json}.
    python scripts/real_photos.py --photos ../shared/data/muxspace_dev.tar \
        --box-data ../shared/data/dlib_faces_boxes.tar --box-data ../shared/data/face_mask_detection_subset300.tar \
        --fer2013 ../shared/data/fer2013_images.zip
Face-mask photos: only their held-out third (the images no fine-tuned detector was trained or selected on).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.config import DEFAULT_DETECTOR, DEFAULT_MODEL
from ferkit.data.fer2013 import FER2013
from ferkit.data.photos import LabelledPhotos
from ferkit.data.voc import benchmark_items
from ferkit.detection.evaluate import frame_latency_ms
from ferkit.detection.registry import create_detector
from ferkit.detection.scale_bench import scale_bands, scale_benchmark
from ferkit.errors import FerkitError
from ferkit.evaluation.photos import PhotoScores, score_photos
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.utils.io import read_image
from ferkit.utils.reports import write_report

#: dlib_hog is left out by default: at ~1 s per 1280 px frame its ~3,000 frames would take about an hour here.
DETECTORS = ("yunet_masks", "yunet_masks_ms", "yunet", "mtcnn", "haar", "mediapipe")
#: (detector, calibrate, tta) for the photos table: the default, its parts switched off, other detectors.
PIPELINES = (
    (DEFAULT_DETECTOR, True, 0),
    (DEFAULT_DETECTOR, False, 0),
    (DEFAULT_DETECTOR, True, 2),
    ("mtcnn", True, 0),
    ("mtcnn", False, 0),
    ("yunet", True, 0),
    ("none", True, 0),
    ("none", False, 0),
)
SOLVAY = Path(__file__).resolve().parents[1] / "src/ferkit/assets/examples/Solvay_conference_1927.jpg"


def box_items(paths: list[str]) -> list:
    return [i for p in paths for i in benchmark_items(p)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--box-data", action="append", default=[])
    ap.add_argument("--fer2013")
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument(
        "--vs-fer",
        metavar="PYTHON",
        help="the interpreter of an environment with the fer package: fer "
        "on the same photos, the same rule (scripts/peer_fer_photos.py)",
    )
    ap.add_argument("--json", default="reports/real_photos.json")
    a = ap.parse_args()
    rep: dict = {"default_detector": DEFAULT_DETECTOR, "default_model": DEFAULT_MODEL}
    bands = scale_bands(box_items(a.box_data))
    rep["scale_frames"] = {str(b.share): len(b.frames) for b in bands}
    scale, speed = {}, {}
    frame = read_image(SOLVAY)
    for name in a.detectors.split(","):
        try:
            det = create_detector(name)
        except FerkitError as e:  # an optional backend not installed
            print(f"skipped {name}: {e}")
            continue
        det.trained_on = set()  # the benchmark's face-mask photos are all held out already
        t = time.perf_counter()
        scale[name] = scale_benchmark(det, bands)
        speed[name] = round(frame_latency_ms(det, frame), 2)
        print(name, scale[name], f"{time.perf_counter() - t:.0f}s")
    plain = create_detector(DEFAULT_DETECTOR, context=None)  # the default without its zoomed-out view, same run
    speed[f"{DEFAULT_DETECTOR} without the zoomed-out view"] = round(frame_latency_ms(plain, frame), 2)
    rep["scale"], rep["ms_per_640x480_frame"] = scale, speed
    rep["recall_plot"] = _plot_recall(scale, Path(a.json).with_name("real_photos_scale_recall.png"))
    photos = LabelledPhotos.load(a.photos)
    clf = ExpressionClassifier(DEFAULT_MODEL)
    rows = {}
    for det, cal, tta in PIPELINES:
        key = f"{det}, {'calibrated' if cal else 'uncalibrated'}{f', tta {tta}' if tta else ''}"
        rows[key] = score_photos(Analyzer(det, clf, calibrate=cal, tta=tta), photos).summary()
        print(key, rows[key]["found"], rows[key]["accuracy"])
    if a.vs_fer:
        rows["fer (its Haar cascade and model)"] = _fer_scores(a.vs_fer, photos).summary()
    rep["photos"] = {"data": Path(a.photos).name, "n": len(photos), "pipelines": rows}
    solvay = Analyzer()(frame)
    rep["solvay"] = {
        "faces": len(solvay.faces),
        "labels": dict(Counter(f.emotion for f in solvay.faces).most_common()),
        "uncertain": sum(bool(f.uncertain) for f in solvay.faces),
    }
    if a.fer2013:
        fs = FER2013(a.fer2013, "PrivateTest")
        rep["default_fer2013_privatetest"] = round(float((clf.predict(fs.images) == fs.labels).mean()), 4)
    write_report(
        a.json,
        rep,
        "Real photos: detection at every scale, labels on real photos",
        _markdown(rep),
        tabled=("scale", "photos", "solvay", "scale_frames", "ms_per_640x480_frame", "recall_plot"),
    )


def _fer_scores(python: str, photos: LabelledPhotos) -> PhotoScores:
    """fer's largest-face label of each photo, run in its own environment on lossless copies of the photos."""
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"{i:04d}.png" for i in range(len(photos))]
        for n, img in zip(names, photos.images):
            cv2.imwrite(str(Path(tmp) / n), img)
        (Path(tmp) / "names.json").write_text(json.dumps(names))
        p = subprocess.run(
            [
                python,
                str(Path(__file__).with_name("peer_fer_photos.py")),
                "--images",
                tmp,
                "--names",
                str(Path(tmp) / "names.json"),
            ],
            capture_output=True,
            text=True,
        )
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        raise SystemExit(f"the fer run failed: {p.stderr.strip()[-300:]}")
    said = json.loads(lines[-1])["labels"]
    found = np.array([s is not None for s in said])
    pred = np.array([photos.classes.index(s) if s in photos.classes else -1 for s in said])
    return PhotoScores(found, pred, np.zeros((len(said), len(photos.classes))), photos.labels, photos.classes)


def _plot_recall(scale: dict, path: Path) -> str:
    """Recall per band, one line per detector; the file's name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ferkit.utils.io import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in scale.items():
        pts = [(r["band"], r["recall"]) for r in rows if r.get("frames")]
        ax.plot(
            [b for b, _ in pts], [v for _, v in pts], "o-", ms=3, label=name, lw=2 if name == DEFAULT_DETECTOR else 1
        )
    ax.set_xscale("log")
    ax.set_xlabel("face side / frame side")
    ax.set_ylabel("recall at the detector's threshold")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path.name


def _markdown(rep: dict) -> str:
    shares = list(rep["scale_frames"])
    md = [
        "\n## Scale benchmark: recall at the detector's threshold / AP50, per face share of the frame side\n",
        "Frames per band (colour and grey): " + ", ".join(f"{s}: {n}" for s, n in rep["scale_frames"].items()) + "\n",
        "| detector | ms / 640x480 | " + " | ".join(f"{float(s):.0%}" for s in shares) + " |",
        "|---|---|" + "---|" * len(shares),
    ]
    for name, rows in rep["scale"].items():
        cells = [f"{r['recall']:.3f} / {r['ap50']:.3f}" if r.get("frames") else "-" for r in rows]
        md.append(f"| {name} | {rep['ms_per_640x480_frame'][name]} | " + " | ".join(cells) + " |")
    plain = [k for k in rep["ms_per_640x480_frame"] if k not in rep["scale"]]
    md += [f"\nms per 640x480 frame, same run: {k} {rep['ms_per_640x480_frame'][k]}." for k in plain]
    md.append(f"\n![recall per band]({rep['recall_plot']})\n")
    p = rep["photos"]
    md += [
        f"\n## Full pipeline on {p['data']} ({p['n']} photos): the largest face against the crowd label\n",
        "| detector, model output | faces found | right (of all photos) | "
        + " | ".join(next(iter(p["pipelines"].values()))["recall_per_class"])
        + " |",
        "|---|---|---|" + "---|" * len(next(iter(p["pipelines"].values()))["recall_per_class"]),
    ]
    for k, r in p["pipelines"].items():
        md.append(
            f"| {k} | {r['found']} | {r['accuracy']:.1%} | "
            + " | ".join(f"{v:.0%}" for v in r["recall_per_class"].values())
            + " |"
        )
    d = p["pipelines"][next(iter(p["pipelines"]))]
    md += ["\nWhat each class is mistaken for (the default pipeline):\n", "| label | mistaken for |", "|---|---|"]
    md += [f"| {c} | " + ", ".join(f"{k} {v}" for k, v in m.items()) + " |" for c, m in d["mistaken_for"].items()]
    s = rep["solvay"]
    md.append(
        f"\n## Solvay 1927 (bundled demo photo)\n\n{s['faces']} faces: "
        + ", ".join(f"{k} {v}" for k, v in s["labels"].items())
        + f"; {s['uncertain']} flagged uncertain.\n"
    )
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
