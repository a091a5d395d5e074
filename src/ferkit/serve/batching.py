"""Faces from concurrent requests classified in shared batches (a short batching window, as Ray Serve's
``@serve.batch``)."""

from __future__ import annotations

import threading
import time

import numpy as np


class BatchingClassifier:
    """Wraps a classifier: ``predict_proba`` from many threads; calls arriving within ``window_ms`` of the first
    one (up to ``max_batch`` faces) are run as one batch. Other attributes are the wrapped classifier's."""

    def __init__(self, inner, window_ms: float = 5.0, max_batch: int = 256):
        self.inner, self.window, self.max_batch = inner, window_ms / 1000, max_batch
        self._lock = threading.Lock()
        self._pending: list[tuple[np.ndarray, dict]] = []
        self._leader_busy = False
        self.batches = 0  # batches run (for the metrics)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0 or self.window <= 0:
            return self.inner.predict_proba(faces)
        slot: dict = {"done": threading.Event()}
        with self._lock:
            self._pending.append((faces, slot))
            lead = not self._leader_busy
            if lead:
                self._leader_busy = True
        if lead:
            self._lead()
        slot["done"].wait()
        if "error" in slot:
            raise slot["error"]
        return slot["result"]

    def _lead(self) -> None:
        """Wait out the window (or a full batch), then run every pending call's faces at once."""
        deadline = time.perf_counter() + self.window
        while time.perf_counter() < deadline:
            with self._lock:
                if sum(len(f) for f, _ in self._pending) >= self.max_batch:
                    break
            time.sleep(self.window / 10)
        with self._lock:
            pending, self._pending, self._leader_busy = self._pending, [], False
        try:
            probs = self.inner.predict_proba(np.concatenate([f for f, _ in pending]))
            self.batches += 1
            k = 0
            for faces, slot in pending:
                slot["result"] = probs[k : k + len(faces)]
                k += len(faces)
        except Exception as e:  # noqa: BLE001 - handed to every waiting caller
            for _, slot in pending:
                slot["error"] = e
        finally:
            for _, slot in pending:
                slot["done"].set()
