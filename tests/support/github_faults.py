"""Canned answers of the GitHub REST API double: GitHub's error body and rate limits.

Rate limits: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
(primary: 403 with ``x-ratelimit-remaining: 0`` and the reset time; secondary: 403 or 429
with ``retry-after``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from support.github_state import REST_DOCS, ApiError

RATE_LIMIT_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"


@dataclass
class Fault:
    """A canned answer for the next ``times`` requests (None: until cleared)."""

    status: int
    body: Any  # JSON, or bytes sent as they are
    headers: dict[str, str]
    times: int | None
    stall: float = 0.0  # send the headers, then wait this long before the body


def error_body(status: int, message: str, docs: str = REST_DOCS) -> dict[str, Any]:
    return {"message": message, "documentation_url": docs, "status": str(status)}


def error_json(error: ApiError) -> dict[str, Any]:
    body = error_body(error.status, error.message, error.documentation_url)
    if error.errors is not None:
        body = {"message": error.message, "errors": error.errors, **body}
    return body


def primary_rate_limit(times: int | None, wait: int) -> Fault:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + wait)}
    body = error_body(403, "API rate limit exceeded for installation ID 1.", RATE_LIMIT_DOCS)
    return Fault(403, body, headers, times)


def secondary_rate_limit(times: int | None, wait: int) -> Fault:
    message = (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    )
    body = error_body(429, message, RATE_LIMIT_DOCS)
    return Fault(429, body, {"retry-after": str(wait)}, times)
