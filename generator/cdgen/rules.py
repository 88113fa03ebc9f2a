"""The descriptor's value rules, for checking prompt answers and cleaning detected values.

Each rule is read from schemas/cdgen.schema.json, so `cdgen init` re-asks a question or
falls back to a default by exactly the rules `cdgen validate` applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from cdgen.resources import load_schema

# Where each rule's definition lives in schemas/cdgen.schema.json ("[]": a list's items).
_WHERE: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "branch": ("branch",),
    "image-repository": ("image", "repository"),
    "path": ("image", "dockerfile"),
    "command": ("image", "test"),
    "environment": ("environments", "[]", "name"),
    "url": ("environments", "[]", "url"),
    "approval": ("environments", "[]", "approval"),
    "namespace": ("environments", "[]", "kubernetes", "namespace"),
    "secret": ("environments", "[]", "kubernetes", "kubeconfig-secret"),
    "duration": ("environments", "[]", "kubernetes", "rollout-timeout"),
    "smoke-path": ("environments", "[]", "smoke", "path"),
    "yes-no": ("image", "attest"),  # any boolean setting, asked as yes or no
    "provider": ("site", "provider"),
    "site-project": ("site", "project"),
    "org-id": ("site", "org-id"),
    "account-id": ("site", "account-id"),
    "registry": ("image", "registry"),
    "aws-role": ("image", "login", "aws", "role"),
    "aws-region": ("image", "login", "aws", "region"),
}
RULE_NAMES = frozenset(_WHERE)


@dataclass(frozen=True)
class Rule:
    pattern: str
    message: str  # the schema's x-error: "must be ..."
    max_length: int = 4096


def matches(pattern: str, value: str) -> bool:
    """JSON Schema's `pattern`, with ECMA-262's `$`: it never matches before a final newline."""
    found = re.search(pattern, value)
    return found is not None and (not pattern.endswith("$") or found.end() == len(value))


@cache
def rule(name: str) -> Rule:
    """The named rule, read from the schema (the one authority for every value)."""
    node: dict[str, Any] = load_schema()
    for step in _WHERE[name]:
        node = node["items"] if step == "[]" else node["properties"][step]
    if node.get("type") == "boolean":
        return Rule("^(yes|no)$", "must be yes or no")
    if "enum" in node:
        pattern = "^(" + "|".join(re.escape(str(v)) for v in node["enum"]) + ")$"
    else:
        pattern = node["pattern"]
    return Rule(pattern, node["x-error"], node.get("maxLength", 4096))


def check_value(name: str, value: str) -> str | None:
    """Why `value` breaks the named rule, or None when it follows it."""
    checked = rule(name)
    if len(value) > checked.max_length:
        return f"must be at most {checked.max_length} characters"
    return None if matches(checked.pattern, value) else checked.message


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
