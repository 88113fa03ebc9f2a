"""One HTTPS request to GitHub's REST API for the deployment records, as data.

Redirects are refused rather than followed: urllib would carry the Authorization header
along to wherever the redirect points.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_BODY = 1 << 20  # a deployment or a status is a few kilobytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # names lowercased
    body: Any  # the parsed JSON; None when there was none or it did not parse


@dataclass(frozen=True)
class TransportFailure:
    kind: str  # "timeout": the request may have been applied; "connection": it was not
    detail: str


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def _reply(status: int, headers: Any, data: bytes) -> Reply:
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    return Reply(status, {str(k).lower(): str(v) for k, v in headers.items()}, body)


def send_request(request: urllib.request.Request, timeout: float) -> Reply | TransportFailure:
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            return _reply(response.status, response.headers, response.read(MAX_BODY))
    except urllib.error.HTTPError as error:
        with error:
            return _reply(error.code, error.headers, error.read(MAX_BODY))
    except (TimeoutError, socket.timeout):  # noqa: UP041 - distinct classes on Python 3.9
        return TransportFailure("timeout", f"no answer within {timeout:g}s")
    except urllib.error.URLError as error:
        return _from_reason(error.reason, timeout)
    except (OSError, http.client.HTTPException) as error:
        return TransportFailure("connection", f"request failed: {type(error).__name__}: {error}")


def _from_reason(reason: object, timeout: float) -> TransportFailure:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return TransportFailure("timeout", f"no answer within {timeout:g}s")
    if isinstance(reason, ConnectionRefusedError):
        return TransportFailure("connection", "connection refused")
    if isinstance(reason, socket.gaierror):
        return TransportFailure("connection", f"cannot resolve the host: {reason.strerror}")
    return TransportFailure("connection", f"request failed: {reason}")
