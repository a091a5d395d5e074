"""reports/serve.{md,json}: `ferkit serve` under 1, 10 and 100 concurrent clients sending the shared photos
(throughput, latency percentiles, errors, deliberate 503s apart), and `ferkit analyze`'s engine on the same photos
in the same run for the ratio (``python -m lab serve-bench``)."""

from __future__ import annotations

import http.client
import json
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ferkit.config import IMAGE_EXTENSIONS
from ferkit.serve.process import serve_process
from ferkit.utils.io import write_json_atomic, write_text_atomic
from ferkit.utils.reports import command_line

#: Requests per run for each client count, and each run's time bound (seconds).
RUNS = {1: 60, 10: 200, 100: 400}
TIME_BOUND_S = 300.0


def load_photos(source: str) -> list[tuple[str, bytes]]:
    """The image files of a folder or tar archive, as (name, bytes)."""
    path = Path(source)
    if path.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(path.rglob("*")) if p.suffix.lower() in IMAGE_EXTENSIONS]
    with tarfile.open(path) as t:
        return [
            (Path(m.name).name, t.extractfile(m).read())
            for m in sorted(t.getmembers(), key=lambda m: m.name)
            if m.isfile() and Path(m.name).suffix.lower() in IMAGE_EXTENSIONS
        ]


def analyze_rate(photos: list[tuple[str, bytes]], copies: int) -> dict:
    """`ferkit analyze`'s engine (``analyze_sources``, models loaded beforehand, no annotated copies) on ``copies``
    copies of the photos: images/s."""
    from ferkit.app.analyzer import Analyzer
    from ferkit.app.jobs import analyze_sources
    from ferkit.app.settings import AnalyzeSettings

    settings = AnalyzeSettings(annotate=False)
    analyzer = Analyzer.from_settings(settings)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for k in range(copies):
            for name, data in photos:
                (folder / f"{k:03d}_{name}").write_bytes(data)
        analyze_sources([str(folder)], Path(tmp) / "warm", analyzer, settings, progress=False)  # warm-up
        t = time.perf_counter()
        rep = analyze_sources([str(folder)], Path(tmp) / "out", analyzer, settings, progress=False)
        seconds = time.perf_counter() - t
    n = copies * len(photos)
    return {
        "images": n,
        "seconds": round(seconds, 2),
        "images_per_s": round(n / seconds, 2),
        "faces": sum(r.get("face") is not None for r in rep.records),
    }


def _client(port: int, photos, count: int, deadline: float, out: dict, lock: threading.Lock, start: threading.Event):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start.wait()
    while True:
        with lock:
            if out["sent"] >= count or time.perf_counter() > deadline:
                break
            out["sent"] += 1
            k = out["sent"]
        name, data = photos[k % len(photos)]
        t = time.perf_counter()
        while True:  # a 503 is retried after its Retry-After, as a client should; counted apart
            try:
                conn.request("POST", "/v1/analyze", body=data, headers={"Content-Type": "application/octet-stream"})
                r = conn.getresponse()
                body, status, wait = r.read(), r.status, float(r.getheader("Retry-After") or 1)
            except (OSError, http.client.HTTPException) as e:
                status, body = 0, str(e).encode()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            if status != 503 or time.perf_counter() > deadline:
                break
            with lock:
                out["busy"] += 1
            time.sleep(wait)
        dt = time.perf_counter() - t
        with lock:
            if status == 200:
                out["latencies"].append(dt)
                out["faces"] += len(json.loads(body)["faces"])
            else:
                out["errors"].append(f"{status}: {body[:120]!r}")
    conn.close()


def load_run(port: int, photos, clients: int, count: int) -> dict:
    """``clients`` threads on keep-alive connections send ``count`` photos in all (time-bounded)."""
    out = {"sent": 0, "latencies": [], "errors": [], "busy": 0, "faces": 0}
    lock, start = threading.Lock(), threading.Event()
    deadline = time.perf_counter() + TIME_BOUND_S
    threads = [
        threading.Thread(target=_client, args=(port, photos, count, deadline, out, lock, start)) for _ in range(clients)
    ]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    start.set()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    lat = np.array(out["latencies"]) * 1000
    pct = lambda q: round(float(np.percentile(lat, q)), 1) if len(lat) else None  # noqa: E731
    return {
        "clients": clients,
        "requests": out["sent"],
        "ok": len(lat),
        "errors": len(out["errors"]),
        "error_examples": out["errors"][:3],
        "busy_503": out["busy"],
        "seconds": round(seconds, 2),
        "images_per_s": round(len(lat) / seconds, 2),
        "latency_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": pct(100)},
        "faces": out["faces"],
    }


def serve_bench(photos_source: str, out: str, serve_args: list[str]) -> dict:
    photos = load_photos(photos_source)
    with tempfile.TemporaryDirectory() as jobs:
        with serve_process(["--jobs-dir", jobs, *serve_args]) as server:
            load_run(server.port, photos, 2, 20)  # warm-up
            rows = [load_run(server.port, photos, clients, count) for clients, count in RUNS.items()]
    err = server.stderr
    analyze = analyze_rate(photos, copies=10)
    for r in rows:
        r["vs_analyze"] = round(r["images_per_s"] / analyze["images_per_s"], 2)
    rep = {
        "photos": [name for name, _ in photos],
        "photos_source": photos_source,
        "server": "ferkit serve " + " ".join(serve_args) if serve_args else "ferkit serve (defaults)",
        "runs": rows,
        "analyze": analyze,
        "server_log_tracebacks": err.count("Traceback"),
        "command": command_line(),
    }
    write_json_atomic(out, rep)
    write_text_atomic(Path(out).with_suffix(".md"), serve_markdown(rep, Path(out).name))
    return rep


def serve_markdown(r: dict, json_name: str) -> str:
    a = r["analyze"]
    lines = [
        "# `ferkit serve` under load",
        "",
        f"*Written by `{r['command']}`; JSON twin `{json_name}`. Server: `{r['server']}`, on this machine with the",
        "clients (Python threads on keep-alive connections, localhost). Each request: one photo, raw body, JSON back;",
        "a 503 (queue full) is retried after its Retry-After and counted apart; latency includes those waits.*",
        "",
        f"Photos: {len(r['photos'])} from `{r['photos_source']}` ({', '.join(r['photos'])}), sent in turn.",
        "",
        "| clients | requests | ok | errors | deliberate 503s | images/s | vs analyze | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in r["runs"]:
        q = x["latency_ms"]
        lines.append(
            f"| {x['clients']} | {x['requests']} | {x['ok']} | {x['errors']} | {x['busy_503']} | {x['images_per_s']} "
            f"| {x['vs_analyze']}x | {q['p50']} | {q['p95']} | {q['p99']} |"
        )
    lines += [
        "",
        f"`ferkit analyze`'s engine on the same photos ({a['images']} images: {a['images'] // len(r['photos'])} "
        f"copies of each; models loaded first, no annotated copies): **{a['images_per_s']} images/s**.",
        "",
        f"Tracebacks in the server's log: {r['server_log_tracebacks']}.",
        "",
    ]
    return "\n".join(lines)
