"""``ferkit batch``: photos and videos by the million into Parquet shards, resumable, on local processes or Ray."""

from __future__ import annotations

import json

from ferkit.errors import FerkitError

from .options import add_frame_options, add_pipeline_options, pipeline_settings


def add_batch(sub) -> None:
    from ferkit.batch.plan import SEGMENT_FRAMES, SHARD_IMAGES

    p = sub.add_parser("batch", help="analyse archives into Parquet shards (resumable; local processes or Ray)")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="a folder (recursive), a .txt/.csv list of paths, a .parquet of image bytes, or media files",
    )
    p.add_argument("--out", required=True, help="output folder: shards/*.parquet and manifest.json")
    p.add_argument("--engine", default="local", help="local (worker processes) or ray")
    p.add_argument("--address", help="--engine ray: the cluster's address (default: start a local Ray)")
    p.add_argument("--workers", type=int, default=0, help="worker processes / Ray actors (0: one per CPU)")
    p.add_argument("--shard-size", type=int, default=SHARD_IMAGES, help="images per shard")
    p.add_argument("--segment-frames", type=int, default=SEGMENT_FRAMES, help="video frames per segment (shard)")
    add_frame_options(p)
    add_pipeline_options(p, threads=1)


def run_batch(a) -> int:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise FerkitError('ferkit batch needs the batch extra (Parquet output): pip install "ferkit[batch]"') from None
    from ferkit.batch.run import batch

    settings = pipeline_settings(a, every=a.every, detect_every=a.detect_every, annotate=False)
    m = batch(a.inputs, a.out, settings, a.engine, a.workers, a.shard_size, a.segment_frames, a.address)
    print(
        json.dumps(
            {k: m[k] for k in ("sources", "shard_count", "shards_done", "rows", "faces")}
            | {"failures": len(m["failures"])}
        )
    )
    return 0
