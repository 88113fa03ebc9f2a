"""Package data (templates, schema) read through importlib.resources."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

SCHEMA_FILE = "cdgen.schema.json"


def _root() -> Traversable:
    return files("cdgen")


def read_schema_text() -> str:
    return _root().joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(read_schema_text())
    return schema


def schema_node(*where: str) -> dict[str, Any]:
    """The schema of the descriptor key at `where` ("[]" steps into a list's items)."""
    node: dict[str, Any] = load_schema()
    for step in where:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


def schema_defaults(*where: str) -> dict[str, Any]:
    """The defaults the schema declares for the mapping at `where` (None where it has none).

    The one source of every default: the model and `cdgen init` both read them here.
    """
    return {key: node.get("default") for key, node in schema_node(*where)["properties"].items()}


def read_template(name: str) -> str:
    return _root().joinpath("templates", name).read_text(encoding="utf-8")


def template_names() -> list[str]:
    return sorted(t.name for t in _root().joinpath("templates").iterdir() if t.name.endswith(".j2"))


@cache
def fingerprint() -> str:
    """A digest of everything packaged that shapes generated output (templates, schema)."""
    digest = hashlib.sha256()
    for name in template_names():
        digest.update(name.encode() + b"\0" + read_template(name).encode() + b"\0")
    digest.update(read_schema_text().encode())
    return digest.hexdigest()
