"""``ferkit bench``: classifier faces/s (batched), detector ms/frame, end-to-end video frames/s, on this machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.app.video import open_video, read_batches
from ferkit.config import ASSETS_DIR, FRAME_BATCH, TIMING_ROUNDS
from ferkit.expression.classifier import ExpressionClassifier
from ferkit.face.preprocess import crop_faces
from ferkit.utils.cpu import cpu_vector_isa
from ferkit.utils.io import read_image
from ferkit.utils.timing import rate as _rate

EXAMPLE_PHOTO = ASSETS_DIR / "examples" / "Solvay_conference_1927.jpg"
EXAMPLE_VIDEO = ASSETS_DIR / "examples" / "tears_of_steel_clip_640x360_10s.mp4"


def example_faces(app: Analyzer) -> np.ndarray:
    """The 48x48 crops of the bundled group photo and their mirror images: the faces the classifier is timed on."""
    photo = read_image(EXAMPLE_PHOTO)
    faces = crop_faces(photo, app.detector.detect(photo), app.framing)
    return np.concatenate([faces, faces[:, :, ::-1]])


def classifier_rates(clf, pool: np.ndarray, min_seconds: float, rounds: int = TIMING_ROUNDS) -> dict[str, float]:
    """Faces/s of ``clf.predict_proba`` at batch sizes 1, 32 and 256 (keys as in the JSON report), the fastest of
    ``rounds`` timing windows."""
    rows = {}
    for bs in (1, 32, 256):
        batch = np.resize(pool, (bs, *pool.shape[1:]))
        rows[str(bs)] = round(_rate(lambda: clf.predict_proba(batch), bs, min_seconds, rounds), 1)
    return rows


def machine_info(threads: int = 0) -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_isa": cpu_vector_isa(),
        "cores": os.cpu_count(),
        "threads": threads or os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": __import__("onnxruntime").__version__,
        "opencv": cv2.__version__,
    }


def _accuracy(clf, test) -> float:
    return round(float((clf.predict_proba(test.images).argmax(1) == test.labels).mean()), 5)


def _video_stages(app: Analyzer, video: str) -> dict:
    """End-to-end frames/s on ``video`` (frames batched by FRAME_BATCH) and milliseconds per frame of each stage."""
    cap, fps, n = open_video(video)
    batches = read_batches(cap, FRAME_BATCH)
    t = {"decode": 0.0, "detect": 0.0, "align": 0.0, "classify": 0.0}
    frames = faces_seen = 0
    t_all = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        batch = [frame for _, frame in next(batches, [])]
        t["decode"] += time.perf_counter() - t0
        if not batch:
            break
        t0 = time.perf_counter()
        dets = [app.detector.detect(f) for f in batch]
        t["detect"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        crops = [crop_faces(f, d, app.framing) for f, d in zip(batch, dets)]
        t["align"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        app.model.predict_proba(np.concatenate(crops))
        t["classify"] += time.perf_counter() - t0
        frames += len(batch)
        faces_seen += sum(len(d) for d in dets)
    total = time.perf_counter() - t_all
    cap.release()
    return {
        "video": os.path.basename(video),
        "video_frames": frames,
        "video_faces": faces_seen,
        "video_fps": round(frames / total, 2),
        "stage_ms_per_frame": {k: round(v / max(frames, 1) * 1000, 2) for k, v in t.items()},
    }


def make_640x480_video(path: str | os.PathLike, minutes: float | None, source: str | None = None) -> int:
    """A 640x480 video of ``minutes`` (``None``: one pass) made by looping ``source`` (default: the bundled clip)
    resized; returns its frame count."""
    cap, fps, _ = open_video(source or str(EXAMPLE_VIDEO))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(f, (640, 480)))
    cap.release()
    n = len(frames) if minutes is None else int(minutes * 60 * fps)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for i in range(n):
        w.write(frames[i % len(frames)])
    w.release()
    return n


def pipeline_run(video: str, detect_every: int = 1, model: str = "default") -> dict:
    """Steady-state frames/s of the streaming pipeline (``analyze_video`` after a 32-frame warm-up, without writing
    a video, summary or plot) and the peak resident memory of the process, meant to run in a fresh process
    (``python -m ferkit.app.bench VIDEO K``)."""
    import resource

    from ferkit.app.settings import AnalyzeSettings
    from ferkit.app.video import analyze_video

    app = Analyzer("default", model)
    with tempfile.TemporaryDirectory() as tmp:
        quiet = AnalyzeSettings(annotate=False)
        analyze_video(app, video, Path(tmp), quiet.replace(max_frames=32), progress=False, summary=False)  # warm-up
        t = time.perf_counter()
        res = analyze_video(
            app, video, Path(tmp), quiet.replace(detect_every=detect_every), progress=False, summary=False
        )
        seconds = time.perf_counter() - t
    return {
        "frames": len(res),
        "detect_every": detect_every,
        "fps": round(len(res) / seconds, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _pipeline_in_subprocess(video: str, detect_every: int) -> dict:
    p = subprocess.run(
        [sys.executable, "-m", "ferkit.app.bench", video, str(detect_every)], capture_output=True, text=True, check=True
    )
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench(
    detector: str = "default",
    model: str = "default",
    threads: int = 0,
    min_seconds: float = 3.0,
    video: str | None = None,
    int8_model: str | None = None,
    fer2013: str | None = None,
    detect_every: tuple[int, ...] = (1, 3),
    long_video_minutes: float = 0.0,
    rounds: int = TIMING_ROUNDS,
) -> dict:
    """Speed of the pipeline on this machine. ``int8_model``: an int8 ``.onnx`` to time (and score) beside the fp32
    model; ``fer2013``: a FER2013 copy to score PrivateTest in the same run. The streaming pipeline
    runs in a fresh process on a 640x480 copy of the video for each ``detect_every``; ``long_video_minutes`` > 0
    also times a looped 640x480 video that long and reports the process's peak memory. Classifier and detector
    rates are the fastest of ``rounds`` windows of at least ``min_seconds``."""
    app = Analyzer(detector, model, threads)
    pool = example_faces(app)
    rows = classifier_rates(app.model, pool, min_seconds, rounds)
    frame = cv2.resize(read_image(EXAMPLE_PHOTO), (640, 480))
    det_ms = 1000 / _rate(lambda: app.detector.detect(frame), 1, min_seconds, rounds)
    video = video or str(EXAMPLE_VIDEO)
    rep = {
        "classifier": app.model.name,
        "classifier_precision": app.model.precision,
        "detector": app.detector.name,
        "classifier_faces_per_s": rows["256"],
        "classifier_faces_per_s_by_batch": rows,
        "timing": {"min_seconds": min_seconds, "rounds": rounds},
        "detector_ms_per_640x480": round(det_ms, 2),
        **_video_stages(app, video),
        "photo_faces": len(pool) // 2,
    }
    rep["pipeline_clip"] = [_pipeline_in_subprocess(video, k) for k in detect_every]
    with tempfile.TemporaryDirectory() as tmp:
        v640 = Path(tmp) / "clip_640x480.mp4"
        make_640x480_video(v640, None, video)  # the same video, resized to 640x480
        rep["pipeline_640x480"] = [_pipeline_in_subprocess(str(v640), k) for k in detect_every]
        if long_video_minutes > 0:
            long = Path(tmp) / "long_640x480.mp4"
            make_640x480_video(long, long_video_minutes, video)
            rep["long_video"] = {"minutes": long_video_minutes, **_pipeline_in_subprocess(str(long), max(detect_every))}
            rep["peak_memory_mb_long_video"] = rep["long_video"]["peak_memory_mb"]
    test = None
    if fer2013:
        from ferkit.data import FER2013

        test = FER2013(fer2013, "PrivateTest")
        rep["privatetest_accuracy"] = _accuracy(app.model, test)
    variants = {}
    if int8_model:
        variants = {app.model.precision: app.model, "int8": ExpressionClassifier(int8_model, threads)}
    elif not str(model).endswith(".onnx"):  # a shipped model: both of its copies
        for prec in ("fp32", "int8"):
            clf = app.model if prec == app.model.precision else ExpressionClassifier(model, threads, precision=prec)
            if clf.precision == prec:
                variants[prec] = clf
    if len(variants) == 2:
        rep["precisions"] = {}
        for prec, clf in variants.items():  # the default copy is not timed or scored twice
            own = clf is app.model
            row = {
                "file": clf.path.name,
                "classifier_faces_per_s_by_batch": rows if own else classifier_rates(clf, pool, min_seconds, rounds),
            }
            if test is not None:
                row["privatetest_accuracy"] = rep["privatetest_accuracy"] if own else _accuracy(clf, test)
            rep["precisions"][prec] = row
        if test is not None and "fp32" in variants:
            rep["int8_accuracy_drop_points"] = round(
                (rep["precisions"]["fp32"]["privatetest_accuracy"] - rep["precisions"]["int8"]["privatetest_accuracy"])
                * 100,
                2,
            )
    rep["machine"] = machine_info(threads)
    return rep


if __name__ == "__main__":  # one streaming-pipeline run in a fresh process (for peak memory)
    print(json.dumps(pipeline_run(sys.argv[1], int(sys.argv[2]))))
