"""Measure the ``fer`` package (justinshenk/fer: Haar + mini-Xception) on given inputs, for ``ferkit bench --vs-fer``.

Runs *inside fer's own environment* (``python peer_fer.py ...`` with that environment's interpreter), so it imports
nothing from ferkit but its timer's file. Prints one JSON object: classifier faces/s (fastest of fer's classifier
paths, batched),
accuracy on the given faces, end-to-end frames/s on a video, faces found on a photo."""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path


def _load_timer():
    """ferkit's timer, loaded from its file: this script runs in fer's environment, where ferkit is not installed."""
    path = Path(__file__).resolve().parents[1] / "src" / "ferkit" / "utils" / "timing.py"
    spec = importlib.util.spec_from_file_location("ferkit_timing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rate


rate = _load_timer()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", required=True, help=".npz with faces (N, 48, 48) uint8 and labels (N,) in FER2013 order")
    ap.add_argument("--photo", required=True)
    ap.add_argument("--video", required=True)
    ap.add_argument("--min-seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=1, help="timing windows per measurement, the fastest kept")
    a = ap.parse_args()
    import cv2
    import numpy as np
    from fer.fer import FER

    data = np.load(a.faces)
    faces, labels = data["faces"], data["labels"]
    # fer's own preprocessing: grey face resized to 64x64, scaled to -1..1
    x = (np.stack([cv2.resize(f, (64, 64)) for f in faces]).astype("float32") / 255.0 - 0.5) * 2.0
    out: dict = {"tool": "fer", "version": __import__("importlib.metadata").metadata.version("fer")}
    rates = {}
    for tflite in (True, False):
        det = FER(use_tflite=tflite)
        probs = np.concatenate([np.asarray(det._classify_emotions(x[i : i + 256])) for i in range(0, len(x), 256)])
        key = "tflite" if tflite else "keras"
        out[f"accuracy_{key}"] = round(float((probs.argmax(1) == labels).mean()), 5)
        batch = x[:256]
        rates[key] = round(rate(lambda: det._classify_emotions(batch), len(batch), a.min_seconds, a.rounds), 1)
    out["classifier_faces_per_s_by_path"] = rates
    best = max(rates, key=rates.get)
    out["classifier_path"], out["classifier_faces_per_s"] = best, rates[best]
    out["accuracy"] = out[f"accuracy_{best}"]
    det = FER()  # fer's defaults: Haar cascade, TFLite classifier
    out["photo_faces"] = len(det.detect_emotions(cv2.imread(a.photo)))
    cap = cv2.VideoCapture(a.video)
    frames, t0 = 0, time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        det.detect_emotions(frame)
        frames += 1
    out["video_frames"], out["video_fps"] = frames, round(frames / (time.perf_counter() - t0), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
