"""The jq the fake gh understands: exactly the expressions listed in JQ_EXPRESSIONS, each a
path of ``.name``, ``.[N]`` and ``.[]`` steps, evaluated with jq's semantics (``.name`` of
null is null; indexing the wrong type is an error), and printed as gh prints them
(go-gh's jq.EvaluateFormatted without a terminal): strings raw, whole numbers without a
fraction, other numbers with two decimals, null as an empty line, the rest compact JSON
with sorted keys.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Add an expression here to let scripts use it.
JQ_EXPRESSIONS = (
    ".[].id",
    ".[].state",
    ".[].sha",
    ".[].environment",
    ".[].payload.image",
    ".[].created_at",
    ".[0].id",
    ".[0].state",
    ".[0].sha",
    ".[0].created_at",
    ".id",
    ".sha",
    ".state",
    ".status",
    ".ahead_by",
    ".behind_by",
    ".total_commits",
    ".commit.committer.date",
    ".merge_base_commit.sha",
    ".payload.image",
    ".[0].verificationResult.signature.certificate.sourceRepositoryDigest",
    ".[].verificationResult.signature.certificate.sourceRepositoryDigest",
    ".[0].verificationResult.signature.certificate.sourceRepositoryURI",
    ".[0].verificationResult.statement.predicateType",
)
STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\.\[(\d*)\]")
EACH = object()


class JqError(Exception):
    pass


def compile_path(expression: str) -> list[object]:
    steps: list[object] = []
    position = 0
    while position < len(expression):
        found = STEP.match(expression, position)
        if found is None:
            raise ValueError(f"not a path expression: {expression}")
        name, index = found.groups()
        steps.append(name if name is not None else EACH if index == "" else int(index))
        position = found.end()
    return steps


PATHS = {expression: compile_path(expression) for expression in JQ_EXPRESSIONS}


def known_expression(expression: str) -> bool:
    return expression in PATHS


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 30 else text[:27] + " ..."


def _step(value: Any, step: object) -> list[Any]:
    if step is EACH:
        if isinstance(value, list):
            return list(value)
        if isinstance(value, dict):
            return list(value.values())
        raise JqError(
            f"cannot iterate over: {_kind(value)}" + f" ({_shown(value)})" * (value is not None)
        )
    if value is None:
        return [None]
    if isinstance(step, str):
        if not isinstance(value, dict):
            raise JqError(f"expected an object but got: {_kind(value)} ({_shown(value)})")
        return [value.get(step)]
    if not isinstance(value, list):
        raise JqError(f"expected an array but got: {_kind(value)} ({_shown(value)})")
    assert isinstance(step, int)
    return [value[step] if step < len(value) else None]


def evaluate(expression: str, document: Any) -> list[Any]:
    values = [document]
    for step in PATHS[expression]:
        values = [result for value in values for result in _step(value, step)]
    return values


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    # Go's json.Marshal escapes these for HTML.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
