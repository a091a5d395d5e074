"""``ferkit serve``: the pipeline as a web service with a browser app (needs the serve extra)."""

from __future__ import annotations

import json
import os

from ferkit.errors import FerkitError

from .options import add_pipeline_options, pipeline_settings

#: Where worker processes (``--workers`` > 1) read their settings.
SETTINGS_ENV = "FERKIT_SERVE_SETTINGS"


def add_serve(sub) -> None:
    p = sub.add_parser("serve", help="a web service and browser app: POST images, videos, zips; results as JSON")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="server processes, each with its own models")
    p.add_argument("--concurrency", type=int, default=2, help="images analysed at once per process")
    p.add_argument("--queue", type=int, default=64, help="requests that may wait; past it the answer is 503")
    p.add_argument("--batch-window-ms", type=float, default=5.0, help="wait this long to batch faces across requests")
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="largest image upload")
    p.add_argument("--max-job-mb", type=float, default=500.0, help="largest video or zip upload")
    p.add_argument("--timeout", type=float, default=60.0, help="per-request time limit, seconds")
    p.add_argument("--api-key", help="require this key (X-API-Key header); default: $FERKIT_API_KEY, else none")
    p.add_argument("--cors", action="append", default=[], metavar="ORIGIN", help="allow this browser origin")
    p.add_argument("--jobs-dir", help="the folder job files go to (default: a ferkit-serve-jobs temp folder)")
    add_pipeline_options(p, threads=1)


def serve_settings(a):
    """The validated ``ServeSettings`` of ``ferkit serve``'s arguments (no model loads)."""
    from ferkit.serve.settings import ServeSettings

    extra = {"jobs_dir": a.jobs_dir} if a.jobs_dir else {}
    return ServeSettings(
        host=a.host,
        port=a.port,
        workers=a.workers,
        concurrency=a.concurrency,
        queue=a.queue,
        batch_window_ms=a.batch_window_ms,
        max_upload_mb=a.max_upload_mb,
        max_job_mb=a.max_job_mb,
        timeout_s=a.timeout,
        api_key=a.api_key,
        cors=tuple(a.cors),
        analyze=pipeline_settings(a),
        **extra,
    ).validate()


def run_serve(a) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise FerkitError('ferkit serve needs the serve extra: pip install "ferkit[serve]"') from None
    settings = serve_settings(a)
    print(f"ferkit serve: http://{settings.host}:{settings.port}/ (API docs at /docs)", flush=True)
    if settings.workers == 1:
        from ferkit.serve.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
        return 0
    os.environ[SETTINGS_ENV] = json.dumps(vars(a), default=str)
    uvicorn.run(
        "ferkit.cli.serve:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
    )
    return 0


def app_from_env():
    """The app of a worker process: the settings the parent parsed, from the environment."""
    import argparse

    from ferkit.serve.app import create_app

    return create_app(serve_settings(argparse.Namespace(**json.loads(os.environ[SETTINGS_ENV]))))
