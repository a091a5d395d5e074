"""Prometheus text metrics: requests, latency histogram, faces classified, queue depth, jobs."""

from __future__ import annotations

import threading
from collections import Counter

#: Latency histogram buckets, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters the app updates and ``text()`` renders in Prometheus' exposition format."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.buckets = [0] * len(BUCKETS)
        self.latency_sum, self.latency_count = 0.0, 0
        self.faces = 0
        self.queue_depth = 0
        self.in_flight = 0
        self.rejected = 0

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, status)] += 1
            self.latency_sum += seconds
            self.latency_count += 1
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    self.buckets[i] += 1

    def add_faces(self, n: int) -> None:
        with self._lock:
            self.faces += n

    def text(self, jobs: dict[str, int], batches: int) -> str:
        with self._lock:
            lines = [
                "# HELP ferkit_requests_total HTTP requests by route and status.",
                "# TYPE ferkit_requests_total counter",
            ]
            lines += [
                f'ferkit_requests_total{{route="{r}",status="{s}"}} {n}' for (r, s), n in sorted(self.requests.items())
            ]
            lines += ["# HELP ferkit_request_seconds Request latency.", "# TYPE ferkit_request_seconds histogram"]
            lines += [f'ferkit_request_seconds_bucket{{le="{b}"}} {n}' for b, n in zip(BUCKETS, self.buckets)]
            lines += [
                f'ferkit_request_seconds_bucket{{le="+Inf"}} {self.latency_count}',
                f"ferkit_request_seconds_sum {self.latency_sum:.6f}",
                f"ferkit_request_seconds_count {self.latency_count}",
                "# TYPE ferkit_faces_classified_total counter",
                f"ferkit_faces_classified_total {self.faces}",
                "# TYPE ferkit_classifier_batches_total counter",
                f"ferkit_classifier_batches_total {batches}",
                "# TYPE ferkit_queue_depth gauge",
                f"ferkit_queue_depth {self.queue_depth}",
                "# TYPE ferkit_in_flight gauge",
                f"ferkit_in_flight {self.in_flight}",
                "# TYPE ferkit_rejected_total counter",
                f"ferkit_rejected_total {self.rejected}",
                "# TYPE ferkit_jobs gauge",
            ]
            lines += [f'ferkit_jobs{{state="{s}"}} {n}' for s, n in sorted(jobs.items())]
        return "\n".join(lines) + "\n"
