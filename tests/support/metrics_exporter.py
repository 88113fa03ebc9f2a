"""A small Prometheus exporter whose numbers the test decides: per Deployment, requests per
second, the share of them that fail with HTTP 500, and how long each takes.

``GET /metrics`` answers in the Prometheus text format with, per Deployment label,

    http_requests_total{deployment, code="200"|"500"}            counters
    http_request_duration_seconds_bucket{deployment, le}         a histogram
    http_request_duration_seconds_sum / _count

The counters grow at each scrape by what the traffic served since the previous one, so
``rate()`` over them gives the rates set. ``traffic`` is called at every scrape and returns
the Traffic of each Deployment serving now (a Deployment absent has no series: no data).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class Traffic:
    rps: float = 200.0
    error_ratio: float = 0.0
    latency: float = 0.04  # every request takes this long


@dataclass
class _Series:
    ok: float = 0.0
    errors: float = 0.0
    seconds: float = 0.0
    buckets: tuple[float, ...] = (0.0,) * (len(BUCKETS) + 1)

    def serve(self, traffic: Traffic, elapsed: float) -> None:
        requests = traffic.rps * elapsed
        self.errors += requests * traffic.error_ratio
        self.ok += requests * (1 - traffic.error_ratio)
        self.seconds += requests * traffic.latency
        self.buckets = tuple(
            count + (requests if traffic.latency <= bound else 0.0)
            for count, bound in zip(self.buckets, (*BUCKETS, float("inf")), strict=True)
        )


class Exporter(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, traffic: Callable[[], dict[str, Traffic]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.traffic = traffic
        self.series: dict[str, _Series] = {}
        self.scrapes = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def render(self) -> str:
        with self._lock:
            now = time.monotonic()
            elapsed, self._last = now - self._last, now
            serving = self.traffic()
            for gone in set(self.series) - set(serving):  # its pods are gone, and their counts
                del self.series[gone]
            for name, traffic in serving.items():
                self.series.setdefault(name, _Series()).serve(traffic, elapsed)
            self.scrapes += 1
            return _exposition(self.series)


def _exposition(series: dict[str, _Series]) -> str:
    lines = ["# TYPE http_requests_total counter"]
    for name, s in sorted(series.items()):
        lines.append(f'http_requests_total{{deployment="{name}",code="200"}} {s.ok:.3f}')
        lines.append(f'http_requests_total{{deployment="{name}",code="500"}} {s.errors:.3f}')
    lines.append("# TYPE http_request_duration_seconds histogram")
    for name, s in sorted(series.items()):
        for bound, count in zip((*BUCKETS, "+Inf"), s.buckets, strict=True):
            le = bound if isinstance(bound, str) else repr(bound)
            metric = "http_request_duration_seconds_bucket"
            lines.append(f'{metric}{{deployment="{name}",le="{le}"}} {count:.3f}')
        lines.append(f'http_request_duration_seconds_sum{{deployment="{name}"}} {s.seconds:.3f}')
        lines.append(
            f'http_request_duration_seconds_count{{deployment="{name}"}} {s.buckets[-1]:.3f}'
        )
    return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    server: Exporter

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = self.server.render().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_exporter(traffic: Callable[[], dict[str, Traffic]]) -> Exporter:
    exporter = Exporter(traffic)
    threading.Thread(target=exporter.serve_forever, name="exporter", daemon=True).start()
    return exporter
