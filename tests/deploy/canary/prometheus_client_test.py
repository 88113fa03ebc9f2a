"""The Prometheus client: real answers from the real server (scalars, NaN, +Inf, empty), and
what no real server would send (a lying or slow one), which must never read as a value."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from support.prometheus_server import Prometheus, PrometheusMissing, prometheus_binary

from cdgen.deploy.analysis import fill_in, judge, read_metric
from cdgen.deploy.canary_options import Metric
from cdgen.deploy.canary_report import ERROR, FAIL, PASS
from cdgen.deploy.prometheus import PrometheusError, query_prometheus

ERRORS = Metric("errors", "q", "max", 0.01)
SUCCESS = Metric("success", "q", "min", 0.99)


@pytest.mark.parametrize(
    ("query", "values"),
    [
        ("vector(0.25)", (0.25,)),
        ("scalar(vector(3))", (3.0,)),
        ("vector(1) / 0", (math.inf,)),
        ('absent_over_time(up{job="nothing"}[1m]) - 1', (0.0,)),
        ('up{job="nothing"}', ()),
    ],
)
def test_real_answers(prometheus: Prometheus, query: str, values: tuple[float, ...]) -> None:
    assert query_prometheus(prometheus.url, query) == values


def test_nan_from_the_real_server_is_no_data(prometheus: Prometheus) -> None:
    ask = lambda query: query_prometheus(prometheus.url, query)  # noqa: E731
    reading = read_metric(ERRORS, ask, "vector(0) / 0")
    assert reading.value is None and not reading.error
    assert judge((reading,), "fail") == (FAIL, "errors had no data (on-no-data: fail)")
    assert judge((reading,), "pass") == (PASS, "")
    infinite = read_metric(ERRORS, ask, "vector(1) / 0")
    assert judge((infinite,), "fail") == (FAIL, "errors was +Inf (max 0.01)")


def test_the_worst_series_decides() -> None:
    assert read_metric(ERRORS, lambda _q: (0.001, math.nan, 0.02), "q").value == 0.02
    assert read_metric(SUCCESS, lambda _q: (0.999, 0.95, math.nan), "q").value == 0.95
    assert judge((read_metric(SUCCESS, lambda _q: (0.95,), "q"),), "fail")[0] == FAIL


def test_a_failed_query_is_an_error_not_a_value() -> None:
    def down(_query: str) -> tuple[float, ...]:
        raise PrometheusError("connection refused")

    reading = read_metric(ERRORS, down, "q")
    assert reading.value is None and reading.error == "connection refused"
    assert judge((reading,), "pass") == (ERROR, "errors: the query failed: connection refused")
    good = read_metric(SUCCESS, lambda _q: (0.5,), "q")
    assert judge((reading, good), "pass")[0] == FAIL  # a violated bound outweighs an error


def test_names_are_filled_in_only_where_meant() -> None:
    query = 'x{d="$canary",s="$stable",n="$namespace",o="$canaryX",p="$other"}'
    names = {"canary": "api-canary", "stable": "api", "namespace": "prod"}
    assert fill_in(query, names) == 'x{d="api-canary",s="api",n="prod",o="$canaryX",p="$other"}'


class Fake(ThreadingHTTPServer):
    daemon_threads = True
    answer: tuple[int, bytes] = (200, b"")
    drip = 0.0
    seen: list[dict[str, Any]]


class FakeHandler(BaseHTTPRequestHandler):
    server: Fake

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        self.server.seen.append({"path": self.path, "form": form, "headers": dict(self.headers)})
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            if self.server.drip:
                time.sleep(self.server.drip)
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


@pytest.fixture
def fake() -> Iterator[Fake]:
    server = Fake(("127.0.0.1", 0), FakeHandler)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def base(fake: Fake) -> str:
    return f"http://127.0.0.1:{fake.server_address[1]}/prom/"


def vector(*values: str) -> bytes:
    result = [{"metric": {}, "value": [1.0, value]} for value in values]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()


def test_the_query_is_posted_with_the_token(fake: Fake) -> None:
    fake.answer = (200, vector("0.5", "NaN", "+Inf"))
    values = query_prometheus(base(fake), 'sum(x{a="b"})', "t0ken")
    assert values[0] == 0.5 and math.isnan(values[1]) and values[2] == math.inf
    (seen,) = fake.seen
    assert seen["path"] == "/prom/api/v1/query"
    assert seen["form"] == {"query": ['sum(x{a="b"})']}
    assert seen["headers"]["Authorization"] == "Bearer t0ken"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((200, b"<html>login</html>"), "the answer is not JSON (is this the Prometheus URL?)"),
        ((200, b"[1, 2]"), "the answer is not a Prometheus API answer"),
        ((200, b'{"status": "error", "data": {}}'), "status error"),
        ((200, json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode()), "gives a matrix"),
        ((200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": [{}]}}).encode()), "a malformed vector result"),
        ((200, vector("lots")), "a sample value is not a number: lots"),
        ((422, b'{"status":"error","errorType":"execution","error":"many-to-many matching"}'), "HTTP 422 execution: many-to-many matching"),
        ((401, b"Unauthorized"), "HTTP 401 Unauthorized (check analysis-token)"),
        ((503, b""), "HTTP 503 Service Unavailable"),
    ],
)  # fmt: skip
def test_answers_that_are_not_values(fake: Fake, answer: tuple[int, bytes], said: str) -> None:
    fake.answer = answer
    with pytest.raises(PrometheusError) as raised:
        query_prometheus(base(fake), "up")
    assert said in str(raised.value)


def test_a_dripping_answer_is_cut_off_at_the_time_limit(fake: Fake) -> None:
    fake.answer, fake.drip = (200, vector("0.1")), 0.05
    started = time.monotonic()
    with pytest.raises(PrometheusError, match="no answer within 1s"):
        query_prometheus(base(fake), "up", timeout=1)
    assert time.monotonic() - started < 1.5


def test_an_unreachable_prometheus(closed_port: int) -> None:
    with pytest.raises(PrometheusError, match="connection refused"):
        query_prometheus(f"http://127.0.0.1:{closed_port}", "up")


def test_without_prometheus_the_tests_fail_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        PrometheusMissing, match=r"apt-get install -y --no-install-recommends prometheus"
    ):
        prometheus_binary()
