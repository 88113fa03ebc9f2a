"""A small GitHub REST client on the standard library: JSON GETs, Link paging, and GitHub's
refusals turned into errors that name what to fix.

The token is sent only to the API's own origin: never to a redirect or a ``Link`` elsewhere.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit

from cdgen import __version__
from cdgen.errors import CdgenError

API_VERSION = "2022-11-28"
MAX_BODY = 32 << 20  # a page of 100 compared commits is well under 1 MiB
MAX_PAGES = 10_000  # a Link chain longer than this is a server going round in circles
RETRIES = 2  # more attempts after a 5xx answer or a dropped connection
USER_AGENT = f"cdgen/{__version__}"
PRINTABLE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # where it came from, for messages: "GH_TOKEN", "`gh auth token`", ...


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: Any


def find_token(api_url: str, environ: Mapping[str, str] | None = None) -> Token:
    """GH_TOKEN, then GITHUB_TOKEN, then what `gh auth token` prints for the API's host."""
    environ = os.environ if environ is None else environ
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        value = environ.get(name, "").strip()
        if value:
            return _checked(Token(value, name))
    host = urlsplit(api_url).hostname or ""
    command = ["gh", "auth", "token"]
    if host not in ("api.github.com", "github.com"):
        command += ["--hostname", host]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        done = None
    value = done.stdout.strip() if done and done.returncode == 0 else ""
    if value:
        return _checked(Token(value, "`gh auth token`"))
    raise CdgenError(
        "no GitHub token: set GH_TOKEN (or GITHUB_TOKEN) to a token that can read the "
        "repository's deployments, or log in with `gh auth login`"
    )


def _checked(token: Token) -> Token:
    # The token becomes a header: a space or a newline could smuggle in another one.
    if not PRINTABLE.fullmatch(token.value):
        raise CdgenError(f"the token from {token.source} is not printable ASCII: check it")
    return token


class GitHubClient:
    """GETs against one API root (https://api.github.com or https://HOST/api/v3)."""

    def __init__(
        self,
        api_url: str,
        token: Token,
        timeout: float = 30.0,
        retry_pause: float = 1.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retry_pause = retry_pause
        self.requests = 0
        self._origin = _origin(self.api_url)
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self._origin))

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        """GET ``path`` (below the API root) and return the parsed JSON answer."""
        query = f"?{urlencode(params)}" if params else ""
        return self.get_url(f"{self.api_url}{path}{query}")

    def get_url(self, url: str) -> Reply:
        if _origin(url) != self._origin:
            raise CdgenError(f"{self.api_url} pointed at {url}: refusing to send the token there")
        for attempt in range(RETRIES + 1):
            try:
                return self._fetch(url)
            except _Retryable as problem:
                if attempt == RETRIES:
                    message = f"{problem} (tried {RETRIES + 1} times); try again later"
                    raise CdgenError(message) from None
                time.sleep(self.retry_pause * (attempt + 1))
        raise AssertionError("unreachable")

    def paginate(self, path: str, params: Mapping[str, str]) -> Iterator[Any]:
        """Every item of a listed resource, page after page along the ``Link: rel="next"``
        URLs; stopping the iteration stops the requests."""
        url: str | None = f"{self.api_url}{path}?{urlencode(params)}"
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise CdgenError(f"{self.api_url}: the pages of {path} never end (at {url})")
            seen.add(url)
            reply = self.get_url(url)
            if not isinstance(reply.body, list):
                raise unexpected(url, "a JSON list")
            yield from reply.body
            url = next_link(reply.headers.get("Link", ""))

    def _fetch(self, url: str) -> Reply:
        request = urllib.request.Request(  # noqa: S310 - http(s) checked by the caller
            url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token.value}",
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": API_VERSION,
            },
        )
        self.requests += 1
        deadline = time.monotonic() + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                data = _read(response, deadline, url)
                return Reply(response.status, response.headers, _json(data, url))
        except urllib.error.HTTPError as error:
            with error:
                data = _read(error, deadline, url)
            raise self._refusal(error.code, error.headers, data, url) from None
        except TimeoutError:
            raise _Retryable(f"{url}: no answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", None) or error.__class__.__name__
            raise _Retryable(f"cannot reach {self.api_url}: {reason}") from None

    def _refusal(self, status: int, headers: Message, data: bytes, url: str) -> Exception:
        message = _message(data)
        if status >= 500:
            return _Retryable(f"{url}: GitHub answered {status} {message}".rstrip())
        if status == 401:
            return CdgenError(
                f"GitHub refused the token from {self.token.source} (401 {message}): set "
                "GH_TOKEN to a valid token that can read the repository's deployments, or "
                "log in again with `gh auth login`"
            )
        if status == 429 or (status == 403 and _rate_limited(headers, message)):
            return CdgenError(_rate_limit_message(headers, message))
        if status == 403:
            return CdgenError(
                f"GitHub refused {url} (403 {message}): the token from {self.token.source} "
                "needs read access to the repository's deployments and contents"
            )
        if status == 404:
            return NotFound(
                f"{url} was not found (404): check --repo and --api-url, and that the token "
                f"from {self.token.source} can see the repository"
            )
        return CdgenError(f"GitHub refused {url} ({status} {message})")


class NotFound(CdgenError):
    """A 404: a missing repository, or (for compare) two commits without common history."""


class _Retryable(Exception):
    """A 5xx answer, a timeout or a dropped connection: worth another attempt."""


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects (GitHub moves renamed repositories) but keep the token at home."""

    def __init__(self, origin: tuple[str, str]) -> None:
        self.origin = origin

    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if _origin(newurl) != self.origin:
            raise CdgenError(f"{req.full_url} redirects to {newurl}: not following it")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _read(response: Any, deadline: float, url: str) -> bytes:
    """The whole body by the deadline: read1 returns what has arrived, where read would wait
    for all it asked for, however slowly it trickles in."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read1(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise CdgenError(f"{url}: the answer is larger than {MAX_BODY >> 20} MiB")
        chunks.append(chunk)


def _json(data: bytes, url: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise unexpected(url, "JSON") from None


def _message(data: bytes) -> str:
    """GitHub's ``message`` from an error body, or nothing."""
    try:
        body = json.loads(data)
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message).split())[:200] if message else ""


def _rate_limited(headers: Message, message: str) -> bool:
    return (
        headers.get("x-ratelimit-remaining") == "0"
        or headers.get("retry-after") is not None
        or "rate limit" in message.lower()
    )


def _rate_limit_message(headers: Message, message: str) -> str:
    retry_after = headers.get("retry-after")
    reset = headers.get("x-ratelimit-reset")
    if retry_after and retry_after.isdigit():
        when = f"wait {retry_after} s"
    elif reset and reset.isdigit():
        at = datetime.fromtimestamp(int(reset), UTC)
        when = f"wait until {at:%H:%M:%S} UTC, when the limit resets"
    else:
        when = "wait a few minutes"
    return f"GitHub's API rate limit was hit ({message or 'rate limited'}): {when}, then rerun"


def next_link(header: str) -> str | None:
    """The URL of ``rel="next"`` in a Link header (RFC 8288), if any."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        rels = {
            value.strip().strip('"')
            for name, _, value in (p.strip().partition("=") for p in params.split(";"))
            if name.strip().lower() == "rel"
        }
        names = {name for rel in rels for name in rel.split()}
        target = target.strip()
        if "next" in names and target.startswith("<") and target.endswith(">"):
            return target[1:-1]
    return None


def unexpected(url: str, wanted: str) -> CdgenError:
    return CdgenError(f"{url}: unexpected answer, not {wanted} as GitHub's API sends")
