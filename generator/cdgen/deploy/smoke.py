"""Smoke test: the URL must answer HTTP 200 within a per-request time limit, optionally
showing the expected version in its body or its ``X-Version`` header."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from cdgen import __version__

MAX_BODY = 1 << 20
USER_AGENT = f"cdgen-deploy/{__version__}"


@dataclass(frozen=True)
class SmokeCheck:
    url: str
    retries: int
    interval: int
    timeout: int
    expect_version: str


@dataclass(frozen=True)
class SmokeAttempt:
    number: int
    ok: bool
    detail: str
    seconds: float


Probe = Callable[[SmokeCheck], "tuple[bool, str]"]


def _read_body(response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        if time.monotonic() > deadline:
            raise TimeoutError
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


def probe_url(check: SmokeCheck) -> tuple[bool, str]:
    """One request; returns (passed, what happened)."""
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked to be http(s)
        check.url, headers={"User-Agent": USER_AGENT, "Cache-Control": "no-cache"}
    )
    deadline = time.monotonic() + check.timeout
    try:
        with urllib.request.urlopen(request, timeout=check.timeout) as response:  # noqa: S310
            body = _read_body(response, deadline)
            return _judge(response.status, response.headers, body, check.expect_version)
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (TimeoutError, socket.timeout):  # noqa: UP041 - distinct classes on Python 3.9
        return False, f"no answer within {check.timeout}s"
    except urllib.error.URLError as error:
        return False, _describe_reason(error.reason)
    except (OSError, http.client.HTTPException) as error:
        return False, f"request failed: {type(error).__name__}: {error}"


def _describe_reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer within the time limit"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host: {reason.strerror}"
    return f"request failed: {reason}"


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
        ok, detail = probe(check)
        attempt = SmokeAttempt(number, ok, detail, time.monotonic() - started)
        attempts.append(attempt)
        on_attempt(attempt)
        if ok:
            break
    return attempts
