"""``ServeSettings``: the service's own options (address, limits, key, jobs folder), checked before models load."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ferkit.app.settings import AnalyzeSettings
from ferkit.errors import BadOptionError

#: The environment variable read for the API key when ``--api-key`` is not given.
API_KEY_ENV = "FERKIT_API_KEY"


@dataclass(frozen=True)
class ServeSettings:
    """Options of ``ferkit serve`` (CLI spelling in brackets).

    host [--host] (127.0.0.1: this machine only), port [--port], workers [--workers]: server processes, each with
    its own models; concurrency [--concurrency]: images analysed at once per process (the rest wait in a queue of
    ``queue`` [--queue] places; a full queue answers 503); batch_window_ms [--batch-window-ms]: how long the
    classifier waits to batch faces from concurrent requests; max_upload_mb [--max-upload-mb] for images,
    max_job_mb [--max-job-mb] for videos and zips; timeout_s [--timeout]: per-request limit; api_key [--api-key or
    $FERKIT_API_KEY]; cors [--cors]: origins allowed to call the API from a browser (none by default); jobs_dir
    [--jobs-dir]: the only folder job files go to; analyze: the pipeline's ``AnalyzeSettings``."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    concurrency: int = 2
    queue: int = 64
    batch_window_ms: float = 5.0
    max_upload_mb: float = 20.0
    max_job_mb: float = 500.0
    timeout_s: float = 60.0
    api_key: str | None = None
    cors: tuple[str, ...] = ()
    jobs_dir: str = field(default_factory=lambda: str(Path(tempfile.gettempdir()) / "ferkit-serve-jobs"))
    analyze: AnalyzeSettings = field(default_factory=lambda: AnalyzeSettings(threads=1))

    def validate(self) -> "ServeSettings":
        """Check every option; return self."""
        for name, low in (("workers", 1), ("concurrency", 1), ("queue", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise BadOptionError(f"--{name}: must be a whole number >= {low}, not {value!r}")
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise BadOptionError(f"--port: must be 0..65535, not {self.port!r}")
        for name in ("batch_window_ms", "max_upload_mb", "max_job_mb", "timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value >= 0 or value != value:
                raise BadOptionError(f"--{name.replace('_', '-')}: must be a number >= 0, not {value!r}")
        if self.api_key is not None and len(self.api_key) < 8:
            raise BadOptionError("--api-key: use at least 8 characters")
        self.analyze.validate()
        return self

    @property
    def key(self) -> str | None:
        """The API key: ``api_key``, else $FERKIT_API_KEY, else none (no key asked for)."""
        return self.api_key or os.environ.get(API_KEY_ENV) or None
