"""`ferkit batch` on the shared demo photos (and copies of them) and the clip: the same rows as `analyze`, with the
local engine and on a local Ray cluster; a run killed mid-way and rerun gives the rows of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

pq = pytest.importorskip("pyarrow.parquet", reason="ferkit batch needs the batch extra (pyarrow)")


@pytest.fixture(scope="module")
def photos(demo, tmp_path_factory) -> Path:
    """The demo photos, each with two copies, and the clip: 25 media files in nested folders."""
    root = tmp_path_factory.mktemp("media")
    for p in sorted(demo.iterdir()):
        if p.suffix.lower() in (".jpg", ".png"):
            for k in range(3):
                (root / f"set{k}").mkdir(exist_ok=True)
                shutil.copy(p, root / f"set{k}" / p.name)
    shutil.copy(demo / "tears_of_steel_clip_640x360_10s.mp4", root / "clip.mp4")
    return root


@pytest.fixture(scope="module")
def analyzed(photos, tmp_path_factory) -> list[dict]:
    """`ferkit analyze` of the same media: the reference records."""
    out = tmp_path_factory.mktemp("analyze")
    images = [str(p) for p in sorted(photos.rglob("*.jpg")) + sorted(photos.rglob("*.png"))]
    run_cli("analyze", *images, photos / "clip.mp4", "--out", out, "--no-annotate", check=True)
    return json.loads((out / "results.json").read_text())


def _rows(out: Path) -> list[dict]:
    rows = [r for f in sorted((out / "shards").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    return sorted(rows, key=_key)


def _key(r: dict):
    return (r["source"], -1 if r["frame"] is None else r["frame"], -1 if r["face"] is None else r["face"])


def _same_as_analyze(rows: list[dict], records: list[dict], tracks: bool = True) -> None:
    records = sorted(records, key=_key)
    assert [_key(r) for r in rows] == [_key(r) for r in records]
    for x, y in zip(records, rows):
        assert x["emotion"] == y["emotion"] and bool(x.get("no_face")) == bool(y["no_face"])
        if x.get("box"):
            assert max(abs(a - b) for a, b in zip(x["box"], (y["x1"], y["y1"], y["x2"], y["y2"]))) < 1e-4
            assert max(abs(x["probabilities"][c] - y[f"p_{c}"]) for c in x["probabilities"]) < 1e-5
        if tracks:
            assert x.get("track") == y["track"]


def test_local_engine_gives_the_rows_of_analyze(photos, analyzed, tmp_path):
    out = tmp_path / "out"
    p = run_cli("batch", photos, "--out", out, "--workers", "2", "--shard-size", "4", check=True)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    rows = _rows(out)
    _same_as_analyze(rows, analyzed)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        summary["sources"] == 25 and manifest["shard_count"] == manifest["shards_done"] == 7
    )  # 24 images / 4, 1 video
    assert manifest["rows"] == len(rows) and manifest["failures"] == [] and manifest["versions"]["ferkit"]
    assert {r["time"] for r in rows if r["frame"] == 48} == {2.0}  # frame 48 of a 24 fps clip
    again = run_cli("batch", photos, "--out", out, "--workers", "2", "--shard-size", "4", check=True)
    assert (
        json.loads(again.stdout.strip().splitlines()[-1])["rows"] == len(rows) and _rows(out) == rows
    )  # nothing redone


def test_ray_engine_gives_the_rows_of_analyze(photos, analyzed, tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray engine needs the ray extra")
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.batch.run import batch

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        m = batch([str(photos)], tmp_path / "ray", AnalyzeSettings(threads=1), "ray", 2, 5, 100, progress=False)
    finally:
        ray.shutdown()
    assert m["shard_count"] == m["shards_done"] == 5 + 3  # 24 images / 5, 240 frames / 100
    rows = _rows(tmp_path / "ray")
    _same_as_analyze(rows, analyzed, tracks=False)  # tracks restart in each 100-frame segment
    assert {r["segment"] for r in rows if r["frame"] is not None} == {0, 1, 2}


def test_killed_run_resumes_to_the_same_rows(photos, tmp_path):
    """SIGKILL the driver once some shards are written; the rerun completes them, row for row as an uninterrupted
    run, nothing lost or duplicated."""
    args = ["batch", str(photos), "--workers", "1", "--shard-size", "2", "--segment-frames", "60"]
    whole = tmp_path / "whole"
    run_cli(*args, "--out", whole, check=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ferkit.cli.main", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    manifest = killed / "manifest.json"
    for _ in range(600):
        if manifest.exists() and json.loads(manifest.read_text()).get("shards_done", 0) >= 3:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, as a lost machine would
    proc.wait()
    done = json.loads(manifest.read_text())
    assert 3 <= done["shards_done"] < done["shard_count"] == 16
    run_cli(*args, "--out", killed, check=True)
    assert _rows(killed) == _rows(whole)
    assert json.loads(manifest.read_text())["shards_done"] == 16
    assert not list((killed / "shards").glob("*.tmp*"))


def test_bad_inputs_are_listed_and_the_run_goes_on(demo, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    listing = tmp_path / "list.csv"
    listing.write_text(f"path,note\n{demo / 'laos.jpg'},ok\n{bad},broken\n{tmp_path / 'missing.png'},gone\n")
    out = tmp_path / "out"
    run_cli("batch", listing, "--out", out, check=True)
    m = json.loads((out / "manifest.json").read_text())
    errors = {Path(f["source"]).name: f["error"] for f in m["failures"]}
    assert set(errors) == {"broken.jpg", "missing.png"} and "truncated JPEG" in errors["broken.jpg"]
    rows = _rows(out)
    assert sum(r["source"].endswith("laos.jpg") and r["face"] is not None for r in rows) == 2
    p = run_cli("batch", tmp_path / "nope", "--out", out)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "nope" in p.stderr
    p = run_cli("batch", listing, "--out", out, "--engine", "spark")
    assert p.returncode == 2 and "--engine" in p.stderr


def test_parquet_of_image_bytes(demo, tmp_path):
    import pyarrow as pa

    names = ["laos.jpg", "two_people.jpg", "laos.jpg"]
    table = pa.table({"name": names, "image": [(demo / n).read_bytes() for n in names]})
    pq.write_table(table, tmp_path / "images.parquet", row_group_size=2)  # a shard's rows span two row groups
    run_cli("batch", tmp_path / "images.parquet", "--out", tmp_path / "out", check=True)
    rows = _rows(tmp_path / "out")
    assert [r["source"].rsplit("#", 1)[1] for r in rows if r["face"] == 0] == ["0", "1", "2"]
    assert len(rows) == 6  # two faces in each photo


def test_ray_worker_killed_mid_run_loses_nothing(photos, analyzed, tmp_path):
    """SIGKILL one Ray actor once shards are being written: Ray restarts it and retries its shard; the run
    completes with every row once."""
    import threading

    ray = pytest.importorskip("ray", reason="the Ray engine needs the ray extra")
    psutil = pytest.importorskip("psutil")
    from ferkit.app.settings import AnalyzeSettings
    from ferkit.batch.run import batch

    out, result = tmp_path / "ray", {}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run = threading.Thread(
            target=lambda: result.update(
                m=batch([str(photos)], out, AnalyzeSettings(threads=1), "ray", 2, 2, 40, progress=False)
            )
        )
        run.start()
        manifest, killed = out / "manifest.json", None
        for _ in range(1200):
            if manifest.exists() and json.loads(manifest.read_text()).get("shards_done", 0) >= 2:
                actors = [
                    p for p in psutil.process_iter(["cmdline"]) if "RayShardWorker" in " ".join(p.info["cmdline"] or [])
                ]
                if actors:
                    killed = actors[0].pid
                    os.kill(killed, signal.SIGKILL)
                    break
            time.sleep(0.1)
        run.join(timeout=600)
    finally:
        ray.shutdown()
    assert killed is not None and "m" in result
    m = result["m"]
    assert m["shards_done"] == m["shard_count"] == 12 + 6 and m["failures"] == []
    rows = _rows(out)
    assert len({_key(r) for r in rows}) == len(rows)  # none duplicated
    _same_as_analyze(rows, analyzed, tracks=False)  # none lost
