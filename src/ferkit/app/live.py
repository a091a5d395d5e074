"""Live view of annotated frames as an MJPEG stream over HTTP (works with headless OpenCV: open
``http://127.0.0.1:PORT/`` in a browser, or read ``/frame.jpg`` for the latest frame)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = b"ferkitframe"


class FrameServer:
    """``publish(image_bgr)`` makes a frame the latest one; clients of ``/`` get every new frame as it comes."""

    def __init__(self, port: int = 8080, host: str = "127.0.0.1", quality: int = 80):
        self.quality, self.jpeg, self.cond, self.closed = quality, b"", threading.Condition(), False
        self.viewers = 0  # clients currently reading the stream
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/frame.jpg"):
                    jpeg = server.latest()
                    self.send_response(200 if jpeg else 503)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(jpeg)))
                    self.end_headers()
                    self.wfile.write(jpeg)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.end_headers()
                seen = b""
                with server.cond:
                    server.viewers += 1
                    server.cond.notify_all()
                try:
                    while not server.closed:
                        jpeg = server.wait_new(seen)
                        if jpeg is None:
                            break
                        if not jpeg:
                            continue
                        seen = jpeg
                        self.wfile.write(
                            b"--"
                            + BOUNDARY
                            + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                            + str(len(jpeg)).encode()
                            + b"\r\n\r\n"
                            + jpeg
                            + b"\r\n"
                        )
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.cond:
                        server.viewers -= 1

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, image: np.ndarray) -> None:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if ok:
            with self.cond:
                self.jpeg = buf.tobytes()
                self.cond.notify_all()

    def latest(self) -> bytes:
        with self.cond:
            return self.jpeg

    def wait_new(self, seen: bytes, timeout: float = 5.0) -> bytes | None:
        """The latest frame once it is not ``seen``; b"" if no new frame came within ``timeout`` seconds (a slow
        source: nothing to send yet); None once the server is closed."""
        with self.cond:
            self.cond.wait_for(lambda: self.closed or (self.jpeg and self.jpeg is not seen), timeout)
            if self.closed:
                return None
            return self.jpeg if self.jpeg is not seen else b""

    def wait_viewer(self, timeout: float = 10.0) -> bool:
        """Block until a client reads the stream (or ``timeout`` seconds pass); True if one does."""
        with self.cond:
            return self.cond.wait_for(lambda: self.viewers > 0, timeout)

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
