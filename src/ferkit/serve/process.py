"""``ferkit serve`` in a child process on a free local port: for benchmarks and end-to-end checks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    server = ServerProcess(port, f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise FerkitError(
                        f"ferkit serve did not start: {proc.stderr.read() if proc.poll() is not None else 'timed out'}"
                    )
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        _, server.stderr = proc.communicate(timeout=30)
