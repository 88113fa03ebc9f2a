"""Validated options: every input is checked before anything touches the cluster."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from cdgen.deploy.canary_options import CanaryOptions, parse_canary
from cdgen.deploy.durations import check_duration
from cdgen.deploy.inputs import INPUTS_BY_NAME, MODES
from cdgen.deploy.recording import Recording, parse_recording
from cdgen.deploy.records_target import url_problem
from cdgen.deploy.site.target import SiteOptions

# The grammar of github.com/distribution/reference, restricted to what a deploy needs:
# an optional registry host (with port), a lowercase path, and a tag or a sha256 digest.
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?P<tag>:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?P<digest>@sha256:[a-f0-9]{64})?"
)  # fmt: skip
_DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL.pattern}(?:\.{_DNS_LABEL.pattern})*")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_ENVIRONMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]{0,99}")
_URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\`{}|^]")
_ISO_Z = re.compile(r"(.*\d)[Zz]$")
_HOST_LABEL_DNS = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL_DNS}(?:\.{_HOST_LABEL_DNS})*")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
MAX_ROLLOUT_SECONDS = 6 * 3600
MAX_SMOKE_SECONDS = 3600
MAX_RETRIES = 100
MAX_LOCK_WAIT_SECONDS = 6 * 3600


class InvalidInputsError(Exception):
    """Raised with every problem found, so the user sees them all at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Options:
    mode: str
    image: str
    only_if_live: str
    namespace: str
    deployment: str
    container: str
    rollout_timeout: int
    smoke_url: str
    smoke_retries: int
    smoke_interval: int
    smoke_timeout: int
    expect_version: str
    kubeconfig_file: str
    environment: str
    commit_time: datetime | None
    kubeconfig: str = field(default="", repr=False)
    recording: Recording = field(default_factory=Recording)
    lock_wait: int = 900
    site: SiteOptions | None = None  # target vercel or cloudflare-pages: a static site
    canary: CanaryOptions | None = None  # None: a rolling update


def _value(raw: dict[str, str], name: str) -> str:
    value = raw.get(name, "")
    return value if value != "" else INPUTS_BY_NAME[name].default


def _check_image(value: str, problems: list[str], name: str = "image") -> None:
    match = _IMAGE.fullmatch(value)
    if not value:
        problems.append(f"{name}: required")
    elif len(value) > 512 or match is None:
        problems.append(
            f"{name}: {value!r} is not an image reference (registry/path:tag or @sha256:digest)"
        )
    elif not match.group("tag") and not match.group("digest"):
        problems.append(f"{name}: {value!r} needs a tag or an @sha256: digest")


def _check_name(
    raw: dict[str, str], name: str, pattern: re.Pattern[str], limit: int, problems: list[str]
) -> str:
    value = _value(raw, name)
    if not value:
        problems.append(f"{name}: required")
    elif len(value) > limit or not pattern.fullmatch(value):
        problems.append(
            f"{name}: {value!r} is not a DNS-1123 name "
            f"(lowercase letters, digits and '-', at most {limit})"
        )
    return value


def _check_duration(
    raw: dict[str, str], name: str, low: int, high: int, problems: list[str]
) -> int:
    return check_duration(name, _value(raw, name), low, high, problems)


def _check_retries(raw: dict[str, str], problems: list[str]) -> int:
    value = _value(raw, "smoke-retries")
    if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) > MAX_RETRIES:
        problems.append(f"smoke-retries: {value!r} is not a whole number from 0 to {MAX_RETRIES}")
        return 0
    return int(value)


def _check_url(value: str, problems: list[str]) -> None:
    problem = _url_problem(value) if value else None
    if problem:
        problems.append(f"smoke-url: {value!r} {problem}")


def _url_problem(value: str) -> str | None:
    """What keeps `value` from being fetched, found here rather than at every smoke test."""
    try:
        parts = urlsplit(value) if not _URL_FORBIDDEN.search(value) else None
    except ValueError:  # an unclosed '[' around an IPv6 address
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or len(value) > 2048:
        return "is not an http(s) URL"
    if not _is_host(parts.hostname or "", bracketed="[" in parts.netloc):
        return (
            "has no valid host: a DNS name (labels of 1 to 63 letters, digits, '-' or '_', "
            "at most 253 characters, not ending in a number) or an IP address"
        )
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = 0
    return "has an invalid port (1 to 65535)" if port == 0 else None


def _is_host(host: str, *, bracketed: bool) -> bool:
    """A name DNS can resolve or an IP address, so that no smoke test fails on the host alone
    (an empty or 64-character label even crashes Python's IDNA encoder)."""
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    if _IPV4.fullmatch(host):
        return True
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's final dot
    return (
        len(name) <= 253
        and _HOST_NAME.fullmatch(name) is not None
        and not name.rsplit(".", 1)[-1].isdigit()  # 1.2.3 or 999.1.1.1 is no address
    )


def parse_commit_time(value: str) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` accepted, as Python 3.9's fromisoformat does not)."""
    text = _ISO_Z.sub(r"\1+00:00", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)  # noqa: UP017 - datetime.UTC is 3.11+
    return parsed


def _check_text(raw: dict[str, str], name: str, allowed: str, problems: list[str]) -> str:
    value = _value(raw, name)
    pattern = _VERSION if name == "expect-version" else _ENVIRONMENT
    if value and not pattern.fullmatch(value):
        problems.append(f"{name}: {value!r} may only use letters, digits and {allowed}")
    return value


def _check_commit_time(raw: dict[str, str], problems: list[str]) -> datetime | None:
    value = _value(raw, "commit-time")
    if not value:
        return None
    parsed = parse_commit_time(value)
    if parsed is None or len(value) > 64:
        problems.append(f"commit-time: {value!r} is not an ISO-8601 time")
        return None
    return parsed


def _check_kubeconfig(raw: dict[str, str], problems: list[str]) -> tuple[str, str]:
    kubeconfig_file = _value(raw, "kubeconfig-file")
    kubeconfig = raw.get("kubeconfig", "")
    if kubeconfig.strip() and kubeconfig_file:
        problems.append("kubeconfig: give the kubeconfig content or a kubeconfig file, not both")
    if "\x00" in kubeconfig_file or "\n" in kubeconfig_file:
        problems.append("kubeconfig-file: not a file name")
    try:
        kubeconfig.encode("utf-8")
    except UnicodeEncodeError as error:  # bytes that are not UTF-8 arrive as surrogates
        # The content is a secret: say where, never what.
        problems.append(f"kubeconfig: not UTF-8 text (an invalid byte at offset {error.start})")
        kubeconfig = ""
    return kubeconfig_file, kubeconfig if kubeconfig.strip() else ""


def parse_options(raw: dict[str, str]) -> Options:
    """Check every input; raise InvalidInputsError listing all the problems."""
    problems: list[str] = []
    mode = _value(raw, "mode")
    if mode not in MODES:
        problems.append(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    recording = parse_recording({k: _value(raw, k) for k in raw}, mode, problems)
    url = _value(raw, "environment-url")
    if url and url_problem("environment-url", url):
        problems.append(f"environment-url: {url[:80]!r} is not an http(s) URL")
    if mode == "record":  # only the record is touched: no cluster, no image
        environment = _check_text(raw, "environment", "space ._/- (at most 100)", problems)
        if problems:
            raise InvalidInputsError(problems)
        return Options(mode, "", "", "", "", "", 0, "", 0, 0, 0, "", "", environment, None,
                       recording=recording)  # fmt: skip
    if _value(raw, "target") != "kubernetes":  # a static site: its own inputs
        from cdgen.deploy.site.options import parse_site_options

        return parse_site_options(raw, mode, recording, problems)
    image = _value(raw, "image")
    _check_image(image, problems)
    only_if_live = _value(raw, "only-if-live")
    if only_if_live:
        _check_image(only_if_live, problems, "only-if-live")
    namespace = _check_name(raw, "namespace", _DNS_LABEL, 63, problems)
    deployment = _check_name(raw, "deployment", _DNS_SUBDOMAIN, 253, problems)
    container = _check_name(
        {"container": _value(raw, "container") or deployment}, "container", _DNS_LABEL, 63, problems
    )
    smoke_url = _value(raw, "smoke-url")
    _check_url(smoke_url, problems)
    kubeconfig_file, kubeconfig = _check_kubeconfig(raw, problems)
    environment = _check_text(raw, "environment", "space ._/- (at most 100)", problems)
    options = Options(
        mode=mode,
        image=image,
        only_if_live=only_if_live,
        namespace=namespace,
        deployment=deployment,
        container=container,
        smoke_url=smoke_url,
        kubeconfig_file=kubeconfig_file,
        environment=environment or namespace,
        kubeconfig=kubeconfig,
        recording=recording,
        **_shared_fields(raw, problems),
        canary=parse_canary({k: _value(raw, k) for k in INPUTS_BY_NAME}, mode, problems),
    )
    if problems:
        raise InvalidInputsError(problems)
    return options


def _shared_fields(raw: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The Options fields a Kubernetes deploy and a site deploy check alike."""
    return {
        "rollout_timeout": _check_duration(
            raw, "rollout-timeout", 1, MAX_ROLLOUT_SECONDS, problems
        ),
        "smoke_retries": _check_retries(raw, problems),
        "smoke_interval": _check_duration(raw, "smoke-interval", 0, MAX_SMOKE_SECONDS, problems),
        "smoke_timeout": _check_duration(raw, "smoke-timeout", 1, 600, problems),
        "expect_version": _check_text(raw, "expect-version", "._+- (at most 128)", problems),
        "commit_time": _check_commit_time(raw, problems),
        "lock_wait": _check_duration(raw, "lock-wait", 0, MAX_LOCK_WAIT_SECONDS, problems),
    }


def lead_time(commit_time: datetime | None, finished: datetime) -> timedelta | None:
    """Deploy time minus commit time; None when the commit time is unknown or in the future."""
    if commit_time is None or commit_time > finished:
        return None
    return finished - commit_time
