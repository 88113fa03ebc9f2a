"""Where and as what a deploy is recorded on GitHub, checked before any request is made."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
COMMIT = re.compile(r"[0-9a-f]{40}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TOKEN = re.compile(r"[\x21-\x7e]*")


def token_problem(name: str, value: str, limit: int) -> str:
    """What is wrong with the token input ``name`` ('' when nothing, or when none is given)."""
    if value and (not TOKEN.fullmatch(value) or len(value) > limit):
        return f"{name}: not a token (printable characters, no spaces)"
    return ""


def one_line(text: str) -> str:
    """Control characters (newlines too) become spaces: GitHub shows one line."""
    return " ".join(CONTROL.sub(" ", text).split())


def _url_problem(name: str, url: str, api: bool = False) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"{name} is not a URL"
    if parts.scheme not in ("https", "http") or not host:
        return f"{name} must be an http(s) URL"
    if api and parts.scheme == "http" and host not in LOOPBACK:
        return f"{name} must use https (the token would travel in clear)"
    if api and (parts.username or parts.query or parts.fragment):
        return f"{name} must not carry credentials, a query or a fragment"
    if CONTROL.search(url) or " " in url:
        return f"{name} holds spaces or control characters"
    return ""


def url_problem(name: str, url: str) -> str:
    """Why ``url`` is not an http(s) URL a record can show; "" when it is."""
    return _url_problem(name, url)


def api_url_problem(url: str) -> str:
    """Why ``url`` cannot take a token: not https (but on the loopback interface), or with
    credentials, a query or a fragment; "" when it can."""
    return _url_problem("the API URL", url, api=True)


@dataclass(frozen=True)
class RecordTarget:
    api_url: str  # GITHUB_API_URL: https://api.github.com, or https://HOST/api/v3 (GHES)
    repository: str  # OWNER/NAME
    token: str  # never printed
    environment: str
    environment_url: str  # may be ""
    commit: str  # the 40-hex commit of the image that goes live
    log_url: str  # the workflow run's URL; may be ""
    production: bool | None = None  # None: let GitHub decide from the environment's name
    service: str = ""  # a monorepo's service, named in the record's payload ("": none)

    def problem(self, *, closing: bool = False) -> str:
        """Why no record can be made with this target; "" when it can. ``closing``: only a
        status is posted to an existing record, which names no commit or environment."""
        checks = [
            _url_problem("the API URL", self.api_url, api=True),
            "" if REPOSITORY.fullmatch(self.repository) else "the repository is not OWNER/NAME",
            "" if self.token else "no token",
            # It becomes a header: whitespace could smuggle in another one.
            "the token is not printable ASCII" if TOKEN.fullmatch(self.token) is None else "",
        ]
        if not closing:
            checks += [
                "" if COMMIT.fullmatch(self.commit) else "the commit is not a 40-hex SHA",
                "" if self.environment.strip() else "no environment name",
                "the environment name is too long" if len(self.environment) > 255 else "",
                "the environment name holds control characters"
                if CONTROL.search(self.environment)
                else "",
            ]
        for name, url in (
            ("the environment URL", self.environment_url),
            ("the run URL", self.log_url),
        ):
            if url:
                checks.append(_url_problem(name, url))
        return next((check for check in checks if check), "")


def run_url(environ: Mapping[str, str]) -> str:
    """The URL of this workflow run (attempt), or "" outside GitHub Actions."""
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id.isdigit()):
        return ""
    url = f"{server}/{repository}/actions/runs/{run_id}"
    attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
    return f"{url}/attempts/{attempt}" if attempt.isdigit() else url


def target_from_environ(
    environ: Mapping[str, str],
    *,
    token: str,
    environment: str,
    environment_url: str,
    commit: str,
    production: bool | None = None,
    service: str = "",
) -> RecordTarget:
    """A target for the repository and run that GitHub Actions describes in ``environ``."""
    return RecordTarget(
        api_url=environ.get("GITHUB_API_URL", "https://api.github.com"),
        repository=environ.get("GITHUB_REPOSITORY", ""),
        token=token,
        environment=environment,
        environment_url=environment_url,
        commit=commit,
        log_url=run_url(environ),
        production=production,
        service=service,
    )
