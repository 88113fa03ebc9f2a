"""One instant query through the Prometheus HTTP API (``POST /api/v1/query``), stdlib only.

The answer is the value of each series (a scalar is one value; NaN is kept, for the analysis
to call it no data). Whatever goes wrong (no connection, an error answer, a body that is not
the API's JSON, no answer in time) raises PrometheusError with a one-line reason: a caller
can never mistake a failed query for a good value. Like a smoke request, the query runs in a
worker thread given a wall-clock limit, and its sockets are shut down when the limit passes.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cdgen.deploy.canary_options import QUERY_SECONDS
from cdgen.deploy.smoke import USER_AGENT, read_body, shut_down_sockets, tracking_opener

QUERY_TIMEOUT = QUERY_SECONDS
MAX_DETAIL = 160


class PrometheusError(Exception):
    """The query gave no usable answer; the message says why, in one line."""


def _short(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"


def _number(text: Any) -> float:
    """A sample value as the API writes it: a string, "NaN" and "+Inf" included."""
    if not isinstance(text, str):
        raise PrometheusError(f"a sample value is not a string: {_short(repr(text))}")
    try:
        return float(text)
    except ValueError:
        raise PrometheusError(f"a sample value is not a number: {_short(text)}") from None


def parse_answer(body: bytes) -> tuple[float, ...]:
    """The values of a successful ``/api/v1/query`` answer (vector or scalar)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PrometheusError("the answer is not JSON (is this the Prometheus URL?)") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise PrometheusError("the answer is not a Prometheus API answer")
    if document.get("status") != "success":
        raise PrometheusError(f"status {_short(str(document.get('status')))}")
    data = document["data"]
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "scalar":
            return (_number(result[1]),)
        if kind == "vector" and isinstance(result, list):
            return tuple(_number(series["value"][1]) for series in result)
    except (TypeError, KeyError, IndexError):
        raise PrometheusError(f"a malformed {kind} result") from None
    raise PrometheusError(
        f"the query gives a {_short(str(kind))}, not an instant vector or a scalar"
    )


def _error_of(error: urllib.error.HTTPError) -> str:
    """An error answer as the API words it (``errorType: error``), else its status."""
    try:
        document = json.loads(error.read(1 << 16).decode("utf-8"))
        said = f"{document['errorType']}: {document['error']}"
    except Exception:  # not the API's error shape: the status says enough
        said = error.reason or ""
    finally:
        error.close()
    hint = " (check analysis-token)" if error.code in (401, 403) else ""
    return _short(f"HTTP {error.code} {said}{hint}")


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host: {reason.strerror}"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer in time"
    return _short(f"request failed: {reason}")


def _ask(url: str, query: str, token: str, timeout: float, sockets: list[socket.socket]) -> Any:
    headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = urllib.parse.urlencode({"query": query}).encode("ascii")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with tracking_opener(sockets).open(request, timeout=timeout) as response:
            return parse_answer(read_body(response))
    except urllib.error.HTTPError as error:
        return PrometheusError(_error_of(error))
    except urllib.error.URLError as error:
        return PrometheusError(_reason(error.reason))
    except (TimeoutError, socket.timeout):  # noqa: UP041 - distinct classes on Python 3.9
        return PrometheusError("no answer in time")
    except PrometheusError as error:
        return error
    except Exception as error:  # a bad status line, a connection reset: a failed query
        return PrometheusError(_short(f"request failed: {type(error).__name__}: {error}"))


def query_prometheus(
    base: str, query: str, token: str = "", timeout: float = QUERY_TIMEOUT
) -> tuple[float, ...]:
    """Run ``query`` at the current time; raise PrometheusError when there is no answer."""
    url = base.rstrip("/") + "/api/v1/query"
    sockets: list[socket.socket] = []
    answers: list[Any] = []
    worker = threading.Thread(
        target=lambda: answers.append(_ask(url, query, token, timeout, sockets)),
        name="cdgen-prometheus",
        daemon=True,
    )
    worker.start()
    late = True
    try:
        worker.join(timeout)
        late = worker.is_alive()
    finally:
        if late:  # too slow, or the engine was cancelled while waiting
            shut_down_sockets(sockets)
    if late or not answers:
        raise PrometheusError(f"no answer within {timeout:.0f}s")
    if isinstance(answers[0], PrometheusError):
        raise answers[0]
    values: tuple[float, ...] = answers[0]
    return values
