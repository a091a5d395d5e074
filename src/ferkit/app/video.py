"""Video and webcam analysis: frames batched, faces tracked, annotated video, per-track summary and plot."""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.app.results import AnalysisResult
from ferkit.app.settings import AnalyzeSettings
from ferkit.app.tracking import IoUTracker
from ferkit.config import EMOTION_COLORS, FRAME_BATCH, TRACK_MIN_FRAMES
from ferkit.errors import BadInputError
from ferkit.utils.io import atomic_path, write_json_atomic


def open_video(source: str | int) -> tuple[cv2.VideoCapture, float, int]:
    """Open a video file or webcam index; (capture, fps, frame count or -1)."""
    if isinstance(source, str) and not Path(source).exists():
        raise BadInputError(f"{source}: no such file")
    if isinstance(source, str) and Path(source).stat().st_size == 0:
        raise BadInputError(f"{source}: empty file")
    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        raise BadInputError(f"{source}: cannot open video (not a video, unsupported codec, or no such camera)")
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if isinstance(source, str) else -1
    return cap, fps if fps > 0 else 25.0, n


def read_batches(
    cap: cv2.VideoCapture, batch: int, max_frames: int | None = None, every: int = 1
) -> Iterator[list[tuple[int, np.ndarray]]]:
    """Yield lists of (frame index, BGR frame); every ``every``-th frame, at most ``max_frames`` frames read."""
    out, idx = [], 0
    while max_frames is None or idx < max_frames:
        ok, frame = cap.read()
        if not ok:
            break
        if idx % every == 0:
            out.append((idx, frame))
        idx += 1
        if len(out) == batch:
            yield out
            out = []
    if out:
        yield out


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, at most ``depth`` items ahead (decoding overlaps inference:
    OpenCV and ONNX Runtime release the GIL). Exceptions are re-raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done, stop = object(), threading.Event()

    def run() -> None:
        try:
            for x in items:
                while not stop.is_set():
                    try:
                        q.put(x, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is done:
                return
            if isinstance(x, BaseException):
                raise x
            yield x
    finally:
        stop.set()


#: The files ``analyze_video`` writes, by kind: ``<stem>`` + suffix.
VIDEO_OUTPUTS = {"video": "_annotated.mp4", "summary": "_summary.json", "plot": "_emotions.png"}


class TrackSmoother:
    """Exponential moving average of each track's probabilities: s = a * s_previous + (1 - a) * p."""

    def __init__(self, a: float):
        self.a = a
        self.state: dict[int, np.ndarray] = {}

    def __call__(self, track: int, p: dict[str, float]) -> dict[str, float]:
        v = np.array(list(p.values()))
        prev = self.state.get(track)
        self.state[track] = v if prev is None else self.a * prev + (1 - self.a) * v
        return {k: float(x) for k, x in zip(p, self.state[track])}


class _LazyWriter:
    """A VideoWriter opened on the first frame (its size is known only then)."""

    def __init__(self, path: Path | None, fps: float):
        self.path, self.fps, self.writer = path, fps, None

    def write(self, img: np.ndarray) -> None:
        if self.path is None:
            return
        if self.writer is None:
            h, w = img.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
        self.writer.write(img)

    def release(self) -> None:
        if self.writer is not None:
            self.writer.release()


class StreamAnalysis:
    """Consecutive frames of one video through the pipeline: the detector on every ``detect_every``-th analysed
    frame (its boxes carried to the frames between), the faces of a batch of frames classified together, and track
    ids from an IoU tracker. ``analysed``: frames analysed so far."""

    def __init__(self, analyzer: Analyzer, source: str, detect_every: int = 1):
        self.analyzer, self.source, self.detect_every = analyzer, source, max(detect_every, 1)
        self.tracker, self.carried, self.analysed = IoUTracker(), [], 0

    def __call__(self, indices, frames) -> list[AnalysisResult]:
        dets = []
        for frame in frames:
            if self.analysed % self.detect_every == 0:
                self.carried = self.analyzer.detector.detect(frame)
            dets.append(self.carried)
            self.analysed += 1
        results = self.analyzer.analyze_frames(list(frames), [self.source] * len(frames), list(indices), dets)
        for res in results:
            for f, tid in zip(res.faces, self.tracker.update(np.array([f.box for f in res.faces]).reshape(-1, 4))):
                f.track_id = tid
        return results


def analyze_video(
    analyzer: Analyzer,
    source: str | int,
    out_dir: Path,
    settings: AnalyzeSettings | None = None,
    *,
    progress: bool = True,
    on_frame=None,
    summary: bool = True,
    stem: str | None = None,
) -> list[AnalysisResult]:
    """Analyse a video file or webcam; write ``<stem>_annotated.mp4``, ``<stem>_summary.json`` and
    ``<stem>_emotions.png`` into ``out_dir`` (``stem``: the video's file stem unless given). Returns per-frame
    results (without images, to bound memory).
    Nothing is left in ``out_dir`` if the video cannot be decoded.

    ``settings`` (``AnalyzeSettings``, checked) gives the video options: ``every`` N-th frame, ``max_frames``,
    ``detect_every`` k > 1 (the detector on every k-th analysed frame, its boxes carried to the frames between),
    ``smooth`` a in [0, 1) (each track's exponentially smoothed probabilities added to its records), ``prefetch``
    (frames decoded ahead in a background thread), ``annotate`` (write the annotated video). Faces are classified
    in batches of FRAME_BATCH frames. ``on_frame(annotated_bgr)`` is called with every annotated frame (live view,
    e.g. ``FrameServer.publish``); ``summary=False`` skips the summary JSON and the plot."""
    from tqdm import tqdm

    s = (settings or AnalyzeSettings()).validate()
    every, detect_every, max_frames, smooth, write_video = s.every, s.detect_every, s.max_frames, s.smooth, s.annotate
    cap, fps, n = open_video(source)
    stem = stem or (Path(str(source)).stem if isinstance(source, str) else f"webcam{source}")
    stream = StreamAnalysis(analyzer, str(source), detect_every)
    smoother = TrackSmoother(smooth) if smooth > 0 else None
    results: list[AnalysisResult] = []
    with ExitStack() as stack:
        stack.callback(cap.release)
        video_path = out_dir / f"{stem}{VIDEO_OUTPUTS['video']}"
        tmp = stack.enter_context(atomic_path(video_path)) if write_video else None
        writer = _LazyWriter(tmp, fps / every)
        stack.callback(writer.release)  # runs before the atomic rename
        bar = stack.enter_context(
            tqdm(total=n if n > 0 else None, unit="frame", desc=stem, disable=None if progress else True)
        )
        batches = read_batches(cap, FRAME_BATCH, max_frames, every)
        if s.prefetch > 0:
            batches = prefetch(batches, max(1, s.prefetch // FRAME_BATCH))
        for batch in batches:
            idx, frames = zip(*batch)
            for res in stream(idx, frames):
                if smoother is not None:
                    for f in res.faces:
                        f.smoothed = smoother(f.track_id, f.probabilities)
                if write_video or on_frame is not None:
                    annotated = res.plot()
                    if write_video:
                        writer.write(annotated)
                    if on_frame is not None:
                        on_frame(annotated)
                res.image = None
                results.append(res)
            bar.update(idx[-1] + 1 - bar.n)
        if not results:
            raise BadInputError(f"{source}: no frames could be decoded (empty or unreadable video)")
    if not summary:
        return results
    summary = track_summary(results, fps)
    people = [t for t in summary if not t["transient"]]
    write_json_atomic(
        out_dir / f"{stem}{VIDEO_OUTPUTS['summary']}",
        {
            "source": str(source),
            "fps": fps,
            "frames": len(results),
            "every": every,
            "detect_every": detect_every,
            "smooth": smooth,
            "people": len(people),
            "tracks": people,
            "transient_tracks": [t["track"] for t in summary if t["transient"]],
            "min_track_frames": TRACK_MIN_FRAMES,
        },
    )
    plot_emotions_over_time(
        results, fps, out_dir / f"{stem}{VIDEO_OUTPUTS['plot']}", analyzer.model.classes, (results[-1].frame + 1) / fps
    )
    return results


def track_summary(results: list[AnalysisResult], fps: float) -> list[dict]:
    """Per track: frames seen, first/last time, dominant emotion, share of time per emotion, mean probabilities,
    identity (the most frequent name, with a gallery), and ``transient`` (seen in < TRACK_MIN_FRAMES frames)."""
    by_track: dict[int, list] = defaultdict(list)
    for r in results:
        for f in r.faces:
            by_track[f.track_id].append((r.frame, f))
    rows = []
    for tid, items in sorted(by_track.items()):
        emotions = [f.emotion for _, f in items]
        names = list(items[0][1].probabilities)
        share = {e: round(emotions.count(e) / len(emotions), 4) for e in names}
        mean = {e: round(float(np.mean([f.probabilities[e] for _, f in items])), 4) for e in names}
        ids = [f.identity for _, f in items if f.identity is not None]
        rows.append(
            {
                "track": tid,
                "frames": len(items),
                "transient": len(items) < TRACK_MIN_FRAMES,
                "start_s": round(items[0][0] / fps, 2),
                "end_s": round(items[-1][0] / fps, 2),
                "identity": max(set(ids), key=ids.count) if ids else None,
                "dominant_emotion": max(share, key=share.get),
                "share": share,
                "mean_probabilities": mean,
            }
        )
    return rows


def plot_emotions_over_time(
    results: list[AnalysisResult], fps: float, path: Path, classes: tuple[str, ...], duration: float
) -> None:
    """PNG: for each track (the 6 longest), the probability of each emotion against time, on one time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_track: dict[int, list] = defaultdict(list)
    for r in results:
        for f in r.faces:
            by_track[f.track_id].append((r.frame / fps, [f.probabilities[c] for c in classes]))
    tracks = sorted(by_track, key=lambda t: -len(by_track[t]))[:6]
    fig, axes = plt.subplots(max(1, len(tracks)), 1, figsize=(9, 2.2 * max(1, len(tracks))), squeeze=False, sharex=True)
    for ax, tid in zip(axes[:, 0], tracks):
        t = [x for x, _ in by_track[tid]]
        p = np.array([y for _, y in by_track[tid]])
        for j, c in enumerate(classes):
            b, g, r = EMOTION_COLORS.get(c, (128, 128, 128))
            ax.plot(t, p[:, j], ".-", ms=2, lw=1, label=c, color=(r / 255, g / 255, b / 255))
        ax.set_ylim(0, 1)
        ax.set_xlim(0, duration)
        ax.set_ylabel(f"track {tid}")
    if not tracks:
        axes[0, 0].text(0.5, 0.5, "no faces detected", ha="center", va="center")
    axes[-1, 0].set_xlabel("time (s)")
    if tracks:
        axes[0, 0].legend(ncol=len(classes), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 1.35))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
