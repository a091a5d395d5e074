"""``ferkit serve`` in a child process on a free local port: for benchmarks and end-to-end checks."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from ferkit.errors import FerkitError


@dataclass
class ServerProcess:
    """The running server's port, base URL and process; ``stderr`` holds its log once it has stopped."""

    port: int
    url: str
    proc: subprocess.Popen
    stderr: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_process(args: list[str], timeout_s: float = 120.0) -> Iterator[ServerProcess]:
    """``ferkit serve --port P ARGS``, yielded once ``/readyz`` answers 200; stopped (terminated) on exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "ferkit.cli.main", "serve", "--port", str(port), *args]
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a chatty server never blocks on a full pipe
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True)
        server = ServerProcess(port, f"http://127.0.0.1:{port}", proc)
        try:
            _wait_ready(server, log, timeout_s)
            yield server
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.seek(0)
            server.stderr = log.read()


def _wait_ready(server: ServerProcess, log: IO[str], timeout_s: float) -> None:
    """Return once ``/readyz`` answers 200; a FerkitError with the server's log if it exits or times out first."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            if server.proc.poll() is not None:
                log.seek(0)
                raise FerkitError(f"ferkit serve did not start: {log.read().strip()}") from None
            if time.monotonic() > deadline:
                raise FerkitError(f"ferkit serve did not answer /readyz within {timeout_s:.0f} s") from None
            time.sleep(0.1)
