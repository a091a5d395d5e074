"""The FastAPI app: ``create_app(settings)`` loads the models once and serves the API and the browser app.

Routes: ``POST /v1/analyze`` (one image -> face records, or the annotated JPEG), ``POST /v1/jobs`` (a video or a
zip of images, analysed in the background) with ``GET``/``DELETE /v1/jobs/{id}`` and its files, ``GET /v1/models``,
``/v1/detectors``, ``/healthz``, ``/readyz``, ``/metrics``; the browser app at ``/``. Errors are JSON
(``{"error": ...}``) with a 4xx status; nothing a client sends names a file on the server.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from pathlib import Path

import cv2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ferkit import __version__
from ferkit.app.analyzer import Analyzer
from ferkit.errors import BadOptionError, FerkitError
from ferkit.expression.models import check_views
from ferkit.utils.io import decode_image

from .batching import BatchingClassifier
from .jobs import JobManager
from .metrics import Metrics
from .settings import ServeSettings

log = logging.getLogger("ferkit.serve")
STATIC = Path(__file__).with_name("static")
#: The browser app's files: the only files served by name (no listing, no client path).
STATIC_FILES = {"/": "index.html", "/app.js": "app.js", "/style.css": "style.css"}
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}
JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class ApiError(Exception):
    """An error answered as JSON with ``status`` (and headers)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The service for ``settings`` (checked first); its models load here, once."""
    s = (settings or ServeSettings()).validate()
    analyzer = Analyzer.from_settings(s.analyze)
    batcher = BatchingClassifier(analyzer.model, s.batch_window_ms)
    analyzer.model = batcher
    jobs = JobManager(s.jobs_dir, analyzer, s.analyze)
    metrics = Metrics()
    compute = asyncio.Semaphore(s.concurrency)
    app = FastAPI(title="ferkit", version=__version__, description=__doc__)
    app.state.settings, app.state.analyzer, app.state.jobs, app.state.metrics = s, analyzer, jobs, metrics
    if s.cors:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(s.cors), allow_methods=["*"], allow_headers=["*"])

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """API key on /v1 and /metrics; every response timed for the metrics; no traceback ever leaves."""
        t = time.perf_counter()
        path = request.url.path
        route = path if not path.startswith("/v1/jobs/") else "/v1/jobs/{id}"
        try:
            if s.key and (path.startswith("/v1/") or path == "/metrics") and not _key_ok(request, s.key):
                response = _error(401, "missing or wrong API key (X-API-Key header or Authorization: Bearer)")
            else:
                response = await call_next(request)
        except Exception as e:  # noqa: BLE001 - logged on one line, answered as JSON
            log.error("internal error on %s %s: %s: %s", request.method, path, type(e).__name__, e)
            response = _error(500, "internal error")
        metrics.observe(
            route if response.status_code != 404 else "other", response.status_code, time.perf_counter() - t
        )
        return response

    @app.exception_handler(ApiError)
    async def api_error(_, e: ApiError):
        return _error(e.status, e.message, e.headers)

    @app.exception_handler(FerkitError)
    async def ferkit_error(_, e: FerkitError):
        return _error(413 if "over the limit" in str(e) else 400, str(e))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_, e: StarletteHTTPException):
        return _error(e.status_code, str(e.detail))

    async def admitted(work, *args):
        """Run ``work`` in a thread once one of ``concurrency`` places is free; 503 when the queue is full, 504 past
        the time limit (the place stays taken until the work ends)."""
        if metrics.queue_depth >= s.queue:
            metrics.rejected += 1
            raise ApiError(503, "server busy: the queue is full, try again", {"Retry-After": "1"})
        metrics.queue_depth += 1
        try:
            await compute.acquire()
        finally:
            metrics.queue_depth -= 1
        metrics.in_flight += 1

        def release(_=None):
            metrics.in_flight -= 1
            compute.release()

        task = asyncio.ensure_future(run_in_threadpool(work, *args))
        done, _ = await asyncio.wait({task}, timeout=s.timeout_s or None)
        if not done:
            task.add_done_callback(release)
            raise ApiError(504, f"the analysis took over the {s.timeout_s:g} s limit")
        release()
        return task.result()

    @app.post("/v1/analyze", summary="Faces and expressions of one image")
    async def analyze(request: Request, annotated: bool = False, tta: int = 0):
        """The image is the request body (raw bytes) or a multipart ``file`` field. Answers the face records of
        ``ferkit analyze``'s results.json, or with ``annotated=1`` (or ``Accept: image/jpeg``) the annotated JPEG.
        ``tta``: views per face (2..10)."""
        try:
            check_views(tta, "tta")
        except BadOptionError as e:
            raise ApiError(422, str(e)) from None
        data, name = await _read_upload(request, s.max_upload_mb)
        want_image = annotated or "image/jpeg" in request.headers.get("accept", "")

        def work():
            image = decode_image(data, name, max_pixels=s.analyze.max_pixels)
            result = _analyze_one(analyzer, image, name, tta)
            metrics.add_faces(len(result.faces))
            return result

        t = time.perf_counter()
        result = await admitted(work)
        if want_image:
            ok, jpeg = cv2.imencode(".jpg", result.plot(), [cv2.IMWRITE_JPEG_QUALITY, 90])
            return Response(jpeg.tobytes(), media_type="image/jpeg")
        h, w = result.image.shape[:2]
        return {
            "source": name,
            "width": w,
            "height": h,
            "model": batcher.name,
            "detector": analyzer.detector.name,
            "ms": round((time.perf_counter() - t) * 1000, 1),
            "faces": result.records(),
        }

    @app.post("/v1/jobs", status_code=202, summary="Analyse a video or a zip of images in the background")
    async def create_job(request: Request):
        data, name = await _read_upload(request, s.max_job_mb)
        try:
            job = await run_in_threadpool(jobs.create, data, name)
        except OverflowError:
            raise ApiError(503, "too many jobs waiting, try again later", {"Retry-After": "30"}) from None
        return JSONResponse(job.status(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

    def _job(job_id: str):
        job = jobs.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            raise ApiError(404, f"no job {job_id!r}")
        return job

    @app.get("/v1/jobs/{job_id}", summary="A job's state, progress and ETA")
    async def job_status(job_id: str):
        return _job(job_id).status()

    @app.delete("/v1/jobs/{job_id}", summary="Cancel a job and remove its files")
    async def job_delete(job_id: str):
        _job(job_id)
        jobs.delete(job_id)
        return {"id": job_id, "deleted": True}

    @app.get(
        "/v1/jobs/{job_id}/{name}", summary="A finished job's file: results, csv, annotated, summary, emotions.png"
    )
    async def job_file(job_id: str, name: str, format: str = "json"):
        job = _job(job_id)
        if job.state != "done":
            raise ApiError(409, f"job {job_id} is {job.state}" + (f": {job.error}" if job.error else ""))
        files = job.files()
        key = "csv" if name == "results" and format == "csv" else name
        if key not in files:
            raise ApiError(404, f"no file {name!r} for this job; it has: {', '.join(sorted(files))}")
        return FileResponse(files[key], filename=f"{job_id}_{files[key].name}")

    @app.get("/v1/models", summary="Expression models")
    async def models():
        from ferkit.expression.registry import list_models

        return {"serving": batcher.name, "models": [m for m in list_models() if m.get("shipped")]}

    @app.get("/v1/detectors", summary="Face detectors")
    async def detectors():
        from ferkit.detection import list_detectors

        return {"serving": analyzer.detector.name, "detectors": list_detectors()}

    @app.get("/healthz", summary="The process is up")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", summary="Models loaded and the queue has room")
    async def readyz():
        if metrics.queue_depth >= s.queue:
            raise ApiError(503, "queue full", {"Retry-After": "1"})
        return {"status": "ready", "model": batcher.name, "detector": analyzer.detector.name}

    @app.get("/metrics", summary="Prometheus metrics")
    async def prometheus():
        return PlainTextResponse(metrics.text(jobs.counts(), batcher.batches), media_type="text/plain; version=0.0.4")

    for route, file in STATIC_FILES.items():
        app.add_api_route(route, _static(file), methods=["GET"], include_in_schema=False)
    return app


def _static(file: str):
    path = STATIC / file

    async def serve_file():
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})

    return serve_file


def _key_ok(request: Request, key: str) -> bool:
    given = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        given = given or auth[7:].strip()
    return hmac.compare_digest(given.encode(), key.encode())


async def _read_upload(request: Request, limit_mb: float) -> tuple[bytes, str]:
    """The uploaded file's bytes and name: a multipart ``file`` field or the raw body; 413 past ``limit_mb``."""
    limit = int(limit_mb * (1 << 20))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + (1 << 16):
        raise ApiError(413, f"upload of {int(declared):,} bytes, over the limit of {limit:,}")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "multipart upload without a 'file' field")
        data = await upload.read(limit + 1)
        name = Path(upload.filename or "upload").name
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"upload over the limit of {limit:,} bytes")
            chunks.append(chunk)
        data, name = b"".join(chunks), "upload"
    if len(data) > limit:
        raise ApiError(413, f"upload over the limit of {limit:,} bytes")
    if not data:
        raise ApiError(400, "empty upload: send the file as the body or a multipart 'file' field")
    return data, name


def _analyze_one(analyzer: Analyzer, image, name: str, tta: int):
    """One image through the pipeline (``tta`` > 1: views for this call only, on the shared models)."""
    return (analyzer.with_views(tta) if tta > 1 else analyzer).analyze_frames([image], [name])[0]
