"""``batch(...)``: plan the shards, skip those already written, run the rest on an engine, keep the manifest.

The manifest (``manifest.json``, rewritten atomically after every shard) records the inputs, settings, versions,
every shard with its file and counts, and every failure with its reason. A rerun of the same command skips the
shards whose file exists and gives the same rows as an uninterrupted run."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict
from pathlib import Path

from ferkit import __version__
from ferkit.app.settings import AnalyzeSettings
from ferkit.errors import BadOptionError
from ferkit.utils.io import read_json, write_json_atomic

from .plan import SEGMENT_FRAMES, SHARD_IMAGES, input_paths, plan_shards

ENGINES = ("local", "ray")


def shard_file(index: int, shard_id: str) -> str:
    return f"part-{index:06d}-{shard_id}.parquet"


def batch(
    inputs: list[str],
    out: str | Path,
    settings: AnalyzeSettings | None = None,
    engine: str = "local",
    workers: int = 0,
    shard_images: int = SHARD_IMAGES,
    segment_frames: int = SEGMENT_FRAMES,
    address: str | None = None,
    progress: bool = True,
) -> dict:
    """Analyse ``inputs`` into ``out``/shards/*.parquet and ``out``/manifest.json; the manifest."""
    settings = (settings or AnalyzeSettings(threads=1)).validate()
    if engine not in ENGINES:
        raise BadOptionError(f"--engine: one of {', '.join(ENGINES)}, not {engine!r}")
    for name, value in (
        ("--shard-size", shard_images),
        ("--segment-frames", segment_frames),
        ("--workers", workers + 1),
    ):
        if not isinstance(value, int) or value < 1:
            raise BadOptionError(f"{name}: must be a whole number >= 1")
    out = Path(out)
    sources = [p for source in inputs for p in input_paths(source)]
    shards, plan_failures = plan_shards(sources, shard_images, segment_frames)
    names = {s.id: shard_file(i, s.id) for i, s in enumerate(shards)}
    manifest_path = out / "manifest.json"
    previous = read_json(manifest_path, {}) or {}
    done = {k: v for k, v in previous.get("shards", {}).items() if (out / "shards" / v["file"]).is_file()}
    manifest = {
        "inputs": [str(i) for i in inputs],
        "sources": len(sources),
        "settings": asdict(settings),
        "engine": engine,
        "shard_images": shard_images,
        "segment_frames": segment_frames,
        "tracks": "per video segment: track ids restart in each segment (column `segment`)",
        "versions": _versions(),
        "shard_count": len(shards),
        "shards": {s.id: done[s.id] for s in shards if s.id in done},
        "plan_failures": plan_failures,
        "started": previous.get("started") or time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    todo = [s for s in shards if s.id not in done]
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifest_path, _totals(manifest))
    if todo:
        from .engines import run_local, run_ray

        run = run_ray if engine == "ray" else run_local
        for summary in run(todo, names, settings, out / "shards", workers, progress, address):
            manifest["shards"][summary["shard"]] = summary
            write_json_atomic(manifest_path, _totals(manifest))
    manifest["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_json_atomic(manifest_path, _totals(manifest))
    return manifest


def _totals(m: dict) -> dict:
    shards = m["shards"].values()
    m["shards_done"] = len(m["shards"])
    m["rows"] = sum(s["rows"] for s in shards)
    m["faces"] = sum(s["faces"] for s in shards)
    m["failures"] = m["plan_failures"] + [f for s in shards for f in s["failures"]]
    return m


def _versions() -> dict:
    import cv2
    import onnxruntime

    return {
        "ferkit": __version__,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "opencv": cv2.__version__,
    }
