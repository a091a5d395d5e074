"""The stages of a batch run as plain functions and one callable class: decode -> detect -> crop -> classify (in
batches) -> rows -> one Parquet file per shard, written atomically. Engines (local processes, Ray) only call them."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ferkit.app.analyzer import Analyzer
from ferkit.app.results import AnalysisResult, flat_rows
from ferkit.app.settings import AnalyzeSettings
from ferkit.app.video import StreamAnalysis
from ferkit.config import EMOTIONS, FRAME_BATCH
from ferkit.errors import FerkitError
from ferkit.utils.io import atomic_path, decode_image

from .plan import Shard

#: The columns of every shard file, in order (then one ``p_<class>`` per class).
COLUMNS = (
    "source",
    "frame",
    "time",
    "segment",
    "face",
    "x1",
    "y1",
    "x2",
    "y2",
    "score",
    "emotion",
    "uncertain",
    "track",
    "no_face",
    "identity",
    "identity_distance",
    "masked",
    "mask_probability",
    "error",
)


def parquet_images(refs: list[str]) -> dict[str, bytes]:
    """The ``image`` bytes of ``parquet:FILE#ROW`` references, each file's row groups that hold them read once (a
    shard's rows are consecutive, so a few groups at most)."""
    import pyarrow.parquet as pq

    wanted: dict[str, dict[int, str]] = {}
    for ref in refs:
        path, row = ref[len("parquet:") :].rsplit("#", 1)
        wanted.setdefault(path, {})[int(row)] = ref
    out = {}
    for path, rows in wanted.items():
        pf = pq.ParquetFile(path)
        start = 0
        for g in range(pf.metadata.num_row_groups):
            stop = start + pf.metadata.row_group(g).num_rows
            inside = [r for r in rows if start <= r < stop]
            if inside:
                column = pf.read_row_group(g, columns=["image"]).column("image")
                out.update({rows[r]: column[r - start].as_py() for r in inside})
            start = stop
    return out


def image_batches(shard: Shard, max_pixels: int) -> Iterator[list[tuple[str, np.ndarray | None, str | None]]]:
    """The shard's images, FRAME_BATCH at a time: (reference, image or None, error or None). An image is a file
    path or a ``parquet:FILE#ROW`` reference (its file's ``image`` bytes column)."""
    stored = [r for r in shard.items if r.startswith("parquet:")]
    try:
        blobs, failed = parquet_images(stored), None
    except (OSError, KeyError, ValueError) as e:  # pyarrow's errors derive from these
        blobs, failed = {}, f"cannot read the Parquet file: {e}"
    batch = []
    for ref in shard.items:
        try:
            if ref in blobs:
                data = blobs[ref]
            elif ref.startswith("parquet:"):
                raise FerkitError(f"{ref}: {failed or 'no such row'}")
            else:
                data = Path(ref).read_bytes()
            batch.append((ref, decode_image(data, ref, max_pixels=max_pixels), None))
        except (FerkitError, OSError) as e:
            batch.append((ref, None, str(e)))
        if len(batch) == FRAME_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def video_batches(shard: Shard, every: int) -> Iterator[tuple[float, list[tuple[int, np.ndarray]]]]:
    """The segment's frames (every ``every``-th of the video, counted from frame 0), FRAME_BATCH at a time, with
    the video's fps."""
    import cv2

    cap = cv2.VideoCapture(shard.items[0])
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        cap.set(cv2.CAP_PROP_POS_FRAMES, shard.start)
        batch = []
        for index in range(shard.start, shard.stop):
            ok, frame = cap.read()
            if not ok:
                break
            if index % every == 0:
                batch.append((index, frame))
            if len(batch) == FRAME_BATCH:
                yield fps, batch
                batch = []
        if batch:
            yield fps, batch
    finally:
        cap.release()


def rows_of(result: AnalysisResult, fps: float | None = None, segment: int = 0) -> list[dict]:
    """The shard rows of one analysed image or frame (an image without a face: one ``no_face`` row): the CSV's
    flat rows (``flat_rows``) with the frame's time and the video segment."""
    time_s = None if result.frame is None or not fps else round(result.frame / fps, 4)
    return [
        {**r, "segment": segment, "time": time_s} for r in flat_rows(result.records(mark_empty=result.frame is None))
    ]


class ShardWorker:
    """Loads the pipeline once (``AnalyzeSettings``), then turns shards into Parquet files under ``out``."""

    def __init__(self, settings: AnalyzeSettings, out: str | Path):
        self.settings = settings.validate()
        self.analyzer = Analyzer.from_settings(self.settings)
        self.classes = tuple(self.analyzer.model.classes) or EMOTIONS
        self.out = Path(out)

    def __call__(self, shard: Shard, name: str) -> dict:
        """Analyse ``shard`` into ``out/name`` (atomically); its summary (rows, faces, failures, seconds)."""
        t = time.perf_counter()
        rows, failures = self.rows(shard)
        write_rows(rows, self.out / name, self.classes)
        faces = sum(r.get("face") is not None for r in rows)
        return {
            "shard": shard.id,
            "file": name,
            "rows": len(rows),
            "faces": faces,
            "failures": failures,
            "seconds": round(time.perf_counter() - t, 3),
        }

    def rows(self, shard: Shard) -> tuple[list[dict], list[dict]]:
        rows, failures = [], []
        if shard.kind == "video":
            stream = StreamAnalysis(self.analyzer, shard.items[0], self.settings.detect_every)
            for fps, batch in video_batches(shard, self.settings.every):
                idx, frames = zip(*batch)
                for res in stream(idx, frames):
                    rows += rows_of(res, fps, shard.segment)
            if not stream.analysed:
                failures.append(
                    {"source": shard.items[0], "error": f"no frames decoded in {shard.start}..{shard.stop}"}
                )
            return rows, failures
        for batch in image_batches(shard, self.settings.max_pixels):
            good = [(ref, img) for ref, img, err in batch if err is None]
            for ref, _, err in batch:
                if err is not None:
                    failures.append({"source": ref, "error": err})
                    rows.append({"source": ref, "frame": None, "error": err})
            if good:
                refs, images = zip(*good)
                for res in self.analyzer.analyze_frames(list(images), list(refs)):
                    rows += rows_of(res)
        return rows, failures


def write_rows(rows: list[dict], dest: Path, classes: tuple[str, ...]) -> None:
    """One Parquet file of ``rows`` with the fixed columns (a file even for no rows), written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [*COLUMNS, *(f"p_{c}" for c in classes)]
    types = {
        "frame": pa.int64(),
        "segment": pa.int64(),
        "face": pa.int64(),
        "track": pa.int64(),
        "no_face": pa.bool_(),
        "uncertain": pa.bool_(),
        "masked": pa.bool_(),
        "source": pa.string(),
        "emotion": pa.string(),
        "identity": pa.string(),
        "error": pa.string(),
    }
    schema = pa.schema([(c, types.get(c, pa.float64())) for c in columns])
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema=schema)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        Path(tmp).write_bytes(buf.getvalue())
