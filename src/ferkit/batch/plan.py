"""The work of a batch run, cut into shards: runs of images, or segments of a video's frames. The plan depends
only on the inputs and the shard sizes, so a rerun of the same command finds the same shards."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ferkit.config import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from ferkit.errors import BadOptionError
from ferkit.utils.io import video_frame_count

#: Images per shard, and video frames per segment, by default.
SHARD_IMAGES = 256
SEGMENT_FRAMES = 1800


@dataclass(frozen=True)
class Shard:
    """One unit of work. ``kind`` images: ``items`` are image paths (or ``parquet:FILE#ROW`` references); video:
    ``items`` is the one video, frames ``start`` <= i < ``stop`` (its ``segment``)."""

    id: str
    kind: str
    items: tuple[str, ...]
    start: int = 0
    stop: int = 0
    segment: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Shard":
        d = json.loads(text)
        return cls(**{**d, "items": tuple(d["items"])})


def input_paths(source: str) -> Iterator[str]:
    """The media of INPUT: a folder (recursive, sorted), a text or CSV list of paths (first column, or a
    ``path`` column), or a Parquet file of image bytes (``parquet:FILE#ROW`` references)."""
    path = Path(source)
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
                yield str(p)
        return
    if not path.is_file():
        raise BadOptionError(f"INPUT: {source}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        n = pq.ParquetFile(path).metadata.num_rows
        for row in range(n):
            yield f"parquet:{path}#{row}"
        return
    if suffix in (".txt", ".csv", ".lst"):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        column = 0
        if rows and "path" in [c.strip().lower() for c in rows[0]]:
            column = [c.strip().lower() for c in rows[0]].index("path")
            rows = rows[1:]
        base = path.parent
        for r in rows:
            if r and r[column].strip() and not r[column].startswith("#"):
                p = Path(r[column].strip())
                yield str(p if p.is_absolute() else base / p)
        return
    if suffix in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
        yield str(path)
        return
    raise BadOptionError(f"INPUT: {source}: not a folder, a list (.txt, .csv), a .parquet file or a media file")


def plan_shards(sources: list[str], shard_images: int = SHARD_IMAGES, segment_frames: int = SEGMENT_FRAMES):
    """(shards, failures): images in runs of ``shard_images``, each video in segments of ``segment_frames`` frames;
    a video that cannot be opened is a failure (path, reason) of the plan, not of the run."""
    shards, failures, images = [], [], []

    def flush():
        if images:
            shards.append(_shard("images", tuple(images)))
            images.clear()

    for s in sources:
        if Path(s.split("#")[0]).suffix.lower() in VIDEO_EXTENSIONS and not s.startswith("parquet:"):
            n = video_frame_count(s)
            if n <= 0:
                failures.append({"source": s, "error": "cannot open the video or it has no frames"})
                continue
            for k, start in enumerate(range(0, n, segment_frames)):
                shards.append(_shard("video", (s,), start, min(start + segment_frames, n), k))
        else:
            images.append(s)
            if len(images) == shard_images:
                flush()
    flush()
    return shards, failures


def _shard(kind: str, items: tuple[str, ...], start: int = 0, stop: int = 0, segment: int = 0) -> Shard:
    key = json.dumps([kind, items, start, stop]).encode()
    return Shard(hashlib.sha1(key).hexdigest()[:16], kind, items, start, stop, segment)
