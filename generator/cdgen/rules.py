"""The descriptor's value rules, for checking prompt answers and cleaning detected values.

The patterns repeat those of schemas/cdgen.schema.json (a test keeps them equal): the
schema stays the authority for `cdgen validate`; these let `cdgen init` re-ask a question
or fall back to a default before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
BRANCH = r"^(?!/)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<![./])$"
URL = r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?$"
SMOKE_PATH = r"^/[A-Za-z0-9._~/%-]*$"
COMMAND = r"^(?![\s\S]*\$\{\{)[\s\S]*\S[\s\S]*$"
IMAGE_REPOSITORY = r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$"
RELATIVE_PATH = r"^(?!-)(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$"
SECRET_NAME = r"^(?![Gg][Ii][Tt][Hh][Uu][Bb]_)[A-Za-z_][A-Za-z0-9_]*$"  # noqa: S105 (a pattern, not a password)
DURATION = r"^[1-9][0-9]{0,3}(s|m|h)$"
ENVIRONMENT = r"^[a-z][a-z0-9-]{0,39}$"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    message: str  # completes "<value> …"
    max_length: int = 4096


_LABEL_MESSAGE = (
    "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with "
    "a letter or digit, at most 63 characters)"
)
RULES = {
    "name": Rule(re.compile(DNS_LABEL), _LABEL_MESSAGE),
    "namespace": Rule(re.compile(DNS_LABEL), _LABEL_MESSAGE),
    "branch": Rule(
        re.compile(BRANCH),
        "is not a plain branch name (letters, digits, '.', '_', '/', '-'; no '..')",
        255,
    ),
    "url": Rule(
        re.compile(URL),
        "is not an http:// or https:// URL with a host, an optional port and a plain path",
        2048,
    ),
    "smoke-path": Rule(re.compile(SMOKE_PATH), "is not an absolute URL path such as /health", 1024),
    "command": Rule(re.compile(COMMAND), "is not a non-empty shell command without `${{`"),
    "approval": Rule(re.compile(r"^(reviewers|manual|none)$"), "is not reviewers, manual or none"),
    "image-repository": Rule(
        re.compile(IMAGE_REPOSITORY), "is not a lowercase image repository such as acme/api", 255
    ),
    "path": Rule(re.compile(RELATIVE_PATH), "is not a plain relative path", 1024),
    "secret": Rule(
        re.compile(SECRET_NAME), "is not a secret name (and must not start GITHUB_)", 100
    ),
    "duration": Rule(re.compile(DURATION), "is not a duration such as 90s, 5m or 1h"),
    "environment": Rule(re.compile(ENVIRONMENT), "is not a lowercase environment name"),
}


def check_value(rule: str, value: str) -> str | None:
    """Why `value` breaks the named rule, or None when it follows it."""
    checked = RULES[rule]
    if len(value) > checked.max_length:
        return f"is longer than {checked.max_length} characters"
    return None if checked.pattern.match(value) else checked.message


def is_valid(rule: str, value: str) -> bool:
    return check_value(rule, value) is None


def to_dns_label(text: str) -> str | None:
    """`@acme/Api_Server` → `api-server`: a usable service name, or None if nothing is left."""
    if text.startswith("@") and "/" in text:
        text = text.split("/", 1)[1]  # an npm scope names the owner, not the service
    label = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return label if label and is_valid("name", label) else None


def to_image_repository(slug: str) -> str | None:
    """A GitHub `owner/name` as a ghcr.io repository (lowercased), or None if it can't be."""
    repository = slug.lower()
    return repository if is_valid("image-repository", repository) else None
