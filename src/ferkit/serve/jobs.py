"""Background jobs for videos and zips of images: random ids, files only under one server-owned folder, progress,
cancellation; one job runs at a time, the others wait in order."""

from __future__ import annotations

import json
import queue
import re
import shutil
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ferkit.app.jobs import analyze_sources
from ferkit.app.results import write_records
from ferkit.app.settings import AnalyzeSettings
from ferkit.config import EMOTIONS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from ferkit.errors import BadInputError, FerkitError
from ferkit.utils.io import video_frame_count, write_json_atomic

#: What a finished job's files are called for the client (``GET /v1/jobs/{id}/<name>``): never a client's path.
JOB_FILES = {"results": "results.json", "csv": "results.csv"}
VIDEO_FILES = {"annotated": "_annotated.mp4", "summary": "_summary.json", "emotions.png": "_emotions.png"}
#: The most files, and bytes once extracted, a zip of images may hold (zip bombs).
MAX_ZIP_FILES = 10_000
MAX_ZIP_BYTES = 2 << 30


class JobCancelled(Exception):
    """Raised inside a running job when its client deleted it."""


@dataclass
class Job:
    """One video or zip analysed in the background."""

    id: str
    kind: str  # video | images
    folder: Path
    input: Path
    state: str = "queued"  # queued | running | done | failed | cancelled
    frames_total: int = 0
    frames_done: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def status(self) -> dict:
        """The job's state for ``GET /v1/jobs/{id}``."""
        progress = self.frames_done / self.frames_total if self.frames_total else (1.0 if self.state == "done" else 0.0)
        eta = None
        if self.state == "running" and self.started and 0 < self.frames_done < self.frames_total:
            eta = round((time.time() - self.started) / self.frames_done * (self.frames_total - self.frames_done), 1)
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": round(min(progress, 1.0), 4),
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "eta_s": eta,
            "error": self.error,
            "files": sorted(self.files()) if self.state == "done" else [],
        }

    def files(self) -> dict[str, Path]:
        """The finished job's files by their public names."""
        out = self.folder / "out"
        found = {name: out / f for name, f in JOB_FILES.items()}
        if self.kind == "video":
            stem = self.input.stem
            found |= {name: out / f"{stem}{suffix}" for name, suffix in VIDEO_FILES.items()}
        return {k: p for k, p in found.items() if p.is_file()}


class JobManager:
    """Creates, runs (one at a time, in a background thread), reports and removes jobs under ``root``."""

    def __init__(self, root: str | Path, analyzer, settings: AnalyzeSettings, max_jobs: int = 64):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.analyzer, self.settings, self.max_jobs = analyzer, settings, max_jobs
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._work, daemon=True, name="ferkit-jobs").start()

    def create(self, data: bytes, filename: str) -> Job:
        """A job for an uploaded video or zip of images (``BadInputError`` when it is neither)."""
        suffix = Path(filename or "").suffix.lower()
        kind = "images" if suffix == ".zip" or data[:4] == b"PK\x03\x04" else "video"
        with self._lock:
            if sum(j.state in ("queued", "running") for j in self.jobs.values()) >= self.max_jobs:
                raise OverflowError("too many jobs waiting")
            job_id = uuid.uuid4().hex
            folder = self.root / job_id
            folder.mkdir(mode=0o700)
        try:
            if kind == "images":
                target = folder / "images"
                _extract_images(data, target)
                job = Job(job_id, kind, folder, target)
            else:
                (folder / "input").mkdir(mode=0o700)
                stem = re.sub(r"[^\w.-]", "_", Path(filename or "").stem)[:80] or "upload"
                target = folder / "input" / (stem + (suffix if suffix in VIDEO_EXTENSIONS else ".mp4"))
                target.write_bytes(data)
                job = Job(job_id, kind, folder, target, frames_total=_frame_count(target))
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._lock:
            self.jobs[job_id] = job
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def delete(self, job_id: str) -> bool:
        """Cancel a job (a running one stops at its next frame) and remove its files."""
        with self._lock:
            job = self.jobs.pop(job_id, None)
        if job is None:
            return False
        job.cancel.set()
        if job.state != "running":
            shutil.rmtree(job.folder, ignore_errors=True)
        return True

    def counts(self) -> dict[str, int]:
        states = [j.state for j in self.jobs.values()]
        return {s: states.count(s) for s in ("queued", "running", "done", "failed", "cancelled")}

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job.cancel.is_set():
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        job.state, job.started = "running", time.time()

        def on_frame(_annotated) -> None:
            job.frames_done += 1
            if job.cancel.is_set():
                raise JobCancelled()

        try:
            analyze_sources([str(job.input)], job.folder / "out", self.analyzer, self.settings, False, on_frame)
            _client_names(job)
            job.state = "done"
        except JobCancelled:
            job.state = "cancelled"
        except FerkitError as e:
            job.state, job.error = "failed", str(e)
        except Exception as e:  # noqa: BLE001 - the job fails with one line; the server goes on
            job.state, job.error = "failed", f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()
            if job.cancel.is_set():
                shutil.rmtree(job.folder, ignore_errors=True)


def _client_names(job: Job) -> None:
    """Name each record's source as the client knows it (the upload's name), never by its path on the server."""
    out, prefix = job.folder / "out", str(job.input) + "/"
    records = json.loads((out / "results.json").read_text())
    for r in records:
        r["source"] = r["source"][len(prefix) :] if r["source"].startswith(prefix) else Path(r["source"]).name
    write_records(records, out / "results.json", out / "results.csv", job_classes(records))
    for summary in out.glob("*_summary.json"):
        s = json.loads(summary.read_text())
        s["source"] = Path(s["source"]).name
        write_json_atomic(summary, s)


def job_classes(records: list[dict]) -> tuple[str, ...]:
    """The classes of the records' probabilities (the model's), the 7 FER2013 ones for records without a face."""
    for r in records:
        if r.get("probabilities"):
            return tuple(r["probabilities"])
    return EMOTIONS


def _frame_count(path: Path) -> int:
    n = video_frame_count(path)
    if n < 0:
        raise BadInputError("upload: not a readable video")
    return n


def _extract_images(data: bytes, target: Path) -> None:
    """The image files of a zip, flattened to safe names under ``target`` (no path from the archive is used)."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadInputError("upload: not a readable zip archive") from None
    members = [m for m in archive.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS]
    if not members:
        raise BadInputError("upload: the zip holds no image files")
    if len(members) > MAX_ZIP_FILES:
        raise BadInputError(f"upload: the zip holds {len(members):,} images, over the limit of {MAX_ZIP_FILES:,}")
    if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise BadInputError(f"upload: the zip's images extract to over {MAX_ZIP_BYTES >> 30} GiB")
    target.mkdir(mode=0o700)
    for i, m in enumerate(members):
        name = f"{i:05d}_{Path(m.filename).name}"  # the archive's folders are dropped: no traversal
        with archive.open(m) as src, open(target / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
