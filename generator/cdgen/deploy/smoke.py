"""Smoke test: the URL must answer HTTP 200 within a wall-clock limit per attempt, optionally
showing the expected version in its body or its ``X-Version`` header.

Socket timeouts bound each read, not the whole answer: a server dripping its status line a
byte at a time would never trip them. So each attempt runs in a worker thread that the
engine waits for at most ``timeout`` seconds; then the attempt fails and the worker's
sockets are shut down. Any error of an attempt (a malformed URL in a redirect, a host that
cannot be encoded) is a failed attempt, never a crash.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from cdgen import __version__

MAX_BODY = 1 << 20
MAX_DETAIL = 200
USER_AGENT = f"cdgen-deploy/{__version__}"


@dataclass(frozen=True)
class SmokeCheck:
    url: str
    retries: int
    interval: int
    timeout: int
    expect_version: str
    headers: tuple[tuple[str, str], ...] = ()  # sent with each request (a site's bypass)


@dataclass(frozen=True)
class SmokeAttempt:
    number: int
    ok: bool
    detail: str
    seconds: float


Probe = Callable[[SmokeCheck], "tuple[bool, str]"]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


class _TrackedHTTPConnection(http.client.HTTPConnection):
    """Remembers its socket, so the engine can shut it down when the deadline passes."""

    _sockets: list[socket.socket]

    def connect(self) -> None:
        super().connect()
        self._sockets.append(self.sock)


class _TrackedHTTPSConnection(http.client.HTTPSConnection, _TrackedHTTPConnection):
    # MRO: HTTPSConnection.connect → _TrackedHTTPConnection.connect (the plain socket, before
    # the TLS handshake) → HTTPConnection.connect; then the wrapped socket is added too.
    def connect(self) -> None:
        super().connect()
        self._sockets.append(self.sock)


Connection = Callable[..., http.client.HTTPConnection]


def _tracked(kind: type[_TrackedHTTPConnection], sockets: list[socket.socket]) -> Connection:
    def connection(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
        made = kind(*args, **kwargs)
        made._sockets = sockets
        return made

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, sockets: list[socket.socket]) -> None:
        super().__init__()
        self._sockets = sockets

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_tracked(_TrackedHTTPConnection, self._sockets), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, sockets: list[socket.socket]) -> None:
        super().__init__()
        self._sockets = sockets

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = _tracked(_TrackedHTTPSConnection, self._sockets)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


def tracking_opener(sockets: list[socket.socket]) -> urllib.request.OpenerDirector:
    """An opener whose connections add their sockets to ``sockets`` (see shut_down_sockets)."""
    return urllib.request.build_opener(_HTTPHandler(sockets), _HTTPSHandler(sockets))


def read_body(response: http.client.HTTPResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        chunk = response.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _judge(
    status: int, headers: http.client.HTTPMessage, body: bytes, expect: str
) -> tuple[bool, str]:
    if status != 200:
        return False, f"HTTP {status}"
    if not expect:
        return True, "HTTP 200"
    if (headers.get("X-Version") or "").strip() == expect or expect.encode() in body:
        return True, f"HTTP 200, version {expect}"
    shown = (headers.get("X-Version") or "").strip()[:64]
    return False, f"HTTP 200 but version {expect} not shown" + (
        f" (X-Version: {shown})" if shown else ""
    )


def _request(check: SmokeCheck, sockets: list[socket.socket]) -> tuple[bool, str]:
    opener = tracking_opener(sockets)
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked to be http(s)
        check.url,
        headers={"User-Agent": USER_AGENT, "Cache-Control": "no-cache", **dict(check.headers)},
    )
    try:
        with opener.open(request, timeout=check.timeout) as response:
            body = read_body(response)
            return _judge(response.status, response.headers, body, check.expect_version)
    except urllib.error.HTTPError as error:
        error.close()
        return False, f"HTTP {error.code}"
    except (TimeoutError, socket.timeout):  # noqa: UP041 - distinct classes on Python 3.9
        return False, f"no answer within {check.timeout}s"
    except urllib.error.URLError as error:
        return False, _describe_reason(error.reason)
    except Exception as error:  # a bad redirect target, an unencodable host, a bad status line
        return False, f"request failed: {type(error).__name__}: {error}"


def _describe_reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer within the time limit"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host: {reason.strerror}"
    return f"request failed: {reason}"


def shut_down_sockets(sockets: list[socket.socket]) -> None:
    for sock in list(sockets):
        # The plain socket method: SSLSocket.shutdown would also drop its TLS state under
        # the worker's feet.
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def probe_url(check: SmokeCheck) -> tuple[bool, str]:
    """One request, given at most ``check.timeout`` seconds of wall-clock time in all."""
    sockets: list[socket.socket] = []
    answers: list[tuple[bool, str]] = []
    worker = threading.Thread(
        target=lambda: answers.append(_request(check, sockets)), name="cdgen-smoke", daemon=True
    )
    worker.start()
    late = True
    try:
        worker.join(check.timeout)
        late = worker.is_alive()
    finally:
        if late:  # too slow, or the engine was cancelled while waiting
            shut_down_sockets(sockets)
    if late or not answers:
        return False, f"no answer within {check.timeout}s"
    ok, detail = answers[0]
    return ok, _shorten(detail)


def _attempt(probe: Probe, check: SmokeCheck) -> tuple[bool, str]:
    try:
        ok, detail = probe(check)
    except Exception as error:  # a probe error is a failed attempt, not a crash
        return False, _shorten(f"probe failed: {type(error).__name__}: {error}")
    return ok, detail


def run_smoke(
    check: SmokeCheck,
    on_attempt: Callable[[SmokeAttempt], None],
    probe: Probe = probe_url,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SmokeAttempt]:
    """Try up to ``1 + retries`` times, ``interval`` seconds apart; stop at the first pass."""
    attempts: list[SmokeAttempt] = []
    for number in range(1, check.retries + 2):
        if number > 1:
            sleep(check.interval)
        started = time.monotonic()
        ok, detail = _attempt(probe, check)
        attempt = SmokeAttempt(number, ok, detail, time.monotonic() - started)
        attempts.append(attempt)
        on_attempt(attempt)
        if ok:
            break
    return attempts
