"""One JSON request to a local server, for tests that talk to the GitHub API double."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TOKEN = "ghs_test_token"  # the double's default token


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lowercased
    body: Any


def request(
    url: str,
    method: str = "GET",
    body: Any = None,
    token: str | None = TOKEN,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    sent = {"Accept": "application/vnd.github+json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if data is not None:
        sent["Content-Type"] = "application/json"
    prepared = urllib.request.Request(url, data=data, method=method, headers=sent)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with direct.open(prepared, timeout=10) as response:
            return _reply(response.status, response.headers.items(), response.read())
    except urllib.error.HTTPError as error:
        return _reply(error.code, error.headers.items(), error.read())


def _reply(status: int, headers: Any, data: bytes) -> Reply:
    return Reply(status, {k.lower(): v for k, v in headers}, json.loads(data) if data else None)
