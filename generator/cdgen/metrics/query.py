"""What `cdgen metrics` measures: the repository, the environment, the window and the API,
with the documented defaults resolved and bad switches reported as usage errors."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cdgen.deploy.recording import SERVICE
from cdgen.errors import DescriptorError, UsageError, Violation
from cdgen.metrics.records import Window
from cdgen.metrics.report import FORMATS

if TYPE_CHECKING:
    from cdgen.descriptor import Document

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_ENVIRONMENT = "production"
DEFAULT_DAYS = 30
DESCRIPTOR = "cdgen.yml"
REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Options:
    """The switches as given; None: take the default."""

    repo: str | None = None
    environment: str | None = None
    since: str | None = None
    until: str | None = None
    form: str = "table"
    api_url: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class Query:
    repo: str
    environment: str
    window: Window
    form: str
    api_url: str
    # Reported one by one; empty: the environment's every record as one. ``checked``: the
    # names come from cdgen.yml (otherwise a name no record carries is found out later).
    services: tuple[str, ...] = ()
    checked: bool = True


def resolve_query(options: Options, cwd: Path, today: date | None = None) -> Query:
    if options.form not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {options.form!r})")
    api_url = check_api_url(options.api_url or DEFAULT_API_URL)
    service = check_service(options.service)
    document = read_local_descriptor(cwd)
    services, checked = resolve_services(service, document)
    return Query(
        repo=resolve_repo(options.repo, cwd, explicit_api=options.api_url is not None),
        environment=resolve_environment(options.environment, document),
        window=resolve_window(options.since, options.until, today or datetime.now(UTC).date()),
        form=options.form,
        api_url=api_url,
        services=services,
        checked=checked,
    )


def resolve_window(since: str | None, until: str | None, today: date) -> Window:
    end = parse_day("--until", until) if until else today
    start = parse_day("--since", since) if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise UsageError(
            f"--since {start.isoformat()} must come before --until {end.isoformat()} "
            "(the window is [since, until), in UTC days)"
        )
    return Window(start, end)


def parse_day(switch: str, text: str) -> date:
    try:
        if DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise UsageError(f"{switch} must be a date as YYYY-MM-DD (got {text!r})")


def resolve_repo(repo: str | None, cwd: Path, explicit_api: bool) -> str:
    if repo is not None:
        if not REPO.fullmatch(repo) or repo.endswith(("/.", "/..")):
            raise UsageError(f"--repo must be OWNER/NAME (got {repo!r})")
        return repo
    from cdgen.init.git_remote import parse_remote_url, read_remote_url, redact_url

    url = read_remote_url(cwd)
    remote = parse_remote_url(url) if url else None
    if remote is None:
        found = f"the git remote {redact_url(url)!r} is not" if url else "no git remote names"
        raise UsageError(f"{found} a GitHub repository: pass --repo OWNER/NAME")
    if remote.host != "github.com" and not explicit_api:
        raise UsageError(
            f"the git remote is on {remote.host}: pass --api-url https://{remote.host}/api/v3 "
            "(GitHub Enterprise Server), or --repo for a repository on github.com"
        )
    return remote.slug


def read_local_descriptor(cwd: Path) -> Document | None:
    """cdgen.yml in ``cwd``, read once for the services and the environment; None: none."""
    path = cwd / DESCRIPTOR
    if not path.is_file():
        return None
    from cdgen.descriptor import read_descriptor

    return read_descriptor(path, DESCRIPTOR)


def resolve_environment(environment: str | None, document: Document | None) -> str:
    if environment is not None:
        if not environment.strip() or any(ord(c) < 32 for c in environment):
            raise UsageError(f"--environment must be an environment's name (got {environment!r})")
        return environment
    if document is None:
        return DEFAULT_ENVIRONMENT
    return last_environment(document)


def last_environment(document: Document) -> str:
    """The name of the descriptor's last environment, the one deploys end in."""
    data: Any = document.data
    environments = data.get("environments") if isinstance(data, dict) else None
    last = environments[-1] if isinstance(environments, list) and environments else None
    name = last.get("name") if isinstance(last, dict) else None
    if isinstance(name, str) and name.strip():
        return name
    where: list[str | int] = ["environments"]
    if isinstance(environments, list) and environments:
        where += [len(environments) - 1, "name"]
    line, column = document.position(where)
    message = "metrics: no environment name here; fix cdgen.yml or pass --environment"
    raise DescriptorError([Violation(DESCRIPTOR, line, column, message)])


def check_service(service: str | None) -> str | None:
    if service is not None and not SERVICE.fullmatch(service):
        raise UsageError(f"--service must be a service's name: a-z, 0-9 and '-' (got {service!r})")
    return service


def resolve_services(
    service: str | None, document: Document | None
) -> tuple[tuple[str, ...], bool]:
    """What to report: ``--service``'s one service, else each service of a services
    descriptor, else the whole environment; and whether the names were checked."""
    if document is None:
        return ((service,) if service else ()), False
    known = descriptor_services(document)
    if service is None:
        return known, True
    if service not in known:
        raise UsageError(unknown_service(service, known, DESCRIPTOR))
    return (service,), True


def unknown_service(service: str, known: tuple[str, ...], where: str) -> str:
    if not known and where == DESCRIPTOR:
        return (
            f"--service {service}: {DESCRIPTOR} describes one service, not a `services:` list, "
            "and its deployment records name no service"
        )
    if not known:
        return f"--service {service}: {where} name no service"
    return f"--service {service}: not a service of {where}; known: {', '.join(known)}"


def descriptor_services(document: Document) -> tuple[str, ...]:
    """The names of a services descriptor's services, in its order; none for one service."""
    data: Any = document.data
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, list):
        return ()
    names = (item.get("name") if isinstance(item, dict) else None for item in services)
    return tuple(name for name in names if isinstance(name, str) and SERVICE.fullmatch(name))


def check_api_url(url: str) -> str:
    parts = urlsplit(url)
    malformed = parts.query or parts.fragment or parts.username or parts.password
    if parts.scheme not in ("https", "http") or not parts.hostname or malformed:
        raise UsageError(f"--api-url must be an https URL such as {DEFAULT_API_URL} (got {url!r})")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UsageError(f"--api-url must use https: the token would travel in clear to {url}")
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
