"""``ferkit bench``: classifier faces/s (batched), detector ms/frame, end-to-end video frames/s, on this machine."""
from __future__ import annotations

import os
import platform
import time

import cv2
import numpy as np

from ..config import ASSETS_DIR, FRAME_BATCH
from ..io import read_image
from .analyzer import Analyzer
from .video import open_video, read_batches

EXAMPLE_PHOTO = ASSETS_DIR / "examples" / "Solvay_conference_1927.jpg"
EXAMPLE_VIDEO = ASSETS_DIR / "examples" / "tears_of_steel_clip_640x360_10s.mp4"


def _rate(fn, items: int, min_seconds: float) -> float:
    """Items per second of ``fn`` (one warm-up call, then repeated for at least ``min_seconds``)."""
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return items * n / dt


def bench(detector: str = "default", model: str = "default", threads: int = 0, min_seconds: float = 3.0,
          video: str | None = None) -> dict:
    app = Analyzer(detector, model, threads)
    photo = read_image(EXAMPLE_PHOTO)
    from ..expression.preprocess import crop_faces
    faces = crop_faces(photo, app.detector.detect(photo), app.crop_scale)
    pool = np.concatenate([faces, faces[:, :, ::-1]])
    rows = {}
    for bs in (1, 32, 256):
        batch = np.resize(pool, (bs, *pool.shape[1:]))
        rows[bs] = round(_rate(lambda: app.model.predict_proba(batch), bs, min_seconds), 1)
    frame = cv2.resize(photo, (640, 480))
    det_ms = 1000 / _rate(lambda: app.detector.detect(frame), 1, min_seconds)

    video = video or str(EXAMPLE_VIDEO)
    cap, fps, n = open_video(video)
    frames, faces_seen, t0 = 0, 0, time.perf_counter()
    for batch in read_batches(cap, FRAME_BATCH):
        idx, imgs = zip(*batch)
        faces_seen += sum(len(r) for r in app.analyze_frames(list(imgs), ["bench"] * len(imgs), list(idx)))
        frames += len(imgs)
    video_s = time.perf_counter() - t0
    cap.release()
    return {
        "classifier": app.model.name, "detector": app.detector.name,
        "classifier_faces_per_s": rows[256], "classifier_faces_per_s_by_batch": rows,
        "detector_ms_per_640x480": round(det_ms, 2),
        "video": os.path.basename(video), "video_frames": frames, "video_faces": faces_seen,
        "video_fps": round(frames / video_s, 2), "photo_faces": len(faces),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "threads": threads or os.cpu_count(), "python": platform.python_version(),
                    "onnxruntime": __import__("onnxruntime").__version__, "opencv": cv2.__version__},
    }
