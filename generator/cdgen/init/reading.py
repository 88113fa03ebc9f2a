"""Reading a repository's files for `cdgen init`, bounded: detection never hangs or crashes.

Each reader returns None with a note the user sees instead of raising: a file that is not a
regular file (a FIFO, a socket) is skipped without being opened for a blocking read, a file
over MAX_FILE_BYTES is skipped, and JSON, TOML or YAML nested deeper than MAX_DEPTH levels
(or YAML with more than MAX_ALIASES aliases) is skipped before it can exhaust the stack or
expand into something huge.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cdgen.workspace import UnreadableFileError, read_regular

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_ALIASES = 100


def read_text(path: Path, notes: list[str], label: str) -> str | None:
    """The file's UTF-8 text, or None with a note when it cannot be used."""
    try:
        return read_regular(path, MAX_FILE_BYTES).decode("utf-8")
    except UnreadableFileError as error:
        notes.append(f"{label}: {error}; skipped.")
    except UnicodeDecodeError:
        notes.append(f"{label}: not UTF-8 text; skipped.")
    return None


def load_json(text: str, label: str, notes: list[str]) -> Any:
    """Parsed JSON, or None with a note (invalid, or nested deeper than MAX_DEPTH)."""
    if _json_depth(text) > MAX_DEPTH:
        notes.append(f"{label}: nested deeper than {MAX_DEPTH} levels; not read.")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        notes.append(
            f"{label}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); not read."
        )
        return None


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, strings skipped (no parsing, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_toml(text: str, label: str, notes: list[str]) -> dict[str, Any]:
    """Parsed TOML, or {} with a note (invalid, or nested deeper than MAX_DEPTH)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        notes.append(f"{label}: not valid TOML ({error}); not read.")
        return {}
    except RecursionError:  # tomllib recurses once per nested array or inline table
        data = None
    if data is None or _data_depth(data) > MAX_DEPTH:
        notes.append(f"{label}: nested deeper than {MAX_DEPTH} levels; not read.")
        return {}
    return data


def _data_depth(data: object) -> int:
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_yaml_documents(text: str, label: str, notes: list[str]) -> list[Any] | None:
    """Every document of a YAML stream, or None with a note (invalid, or over the bounds)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        problem = _yaml_bounds_problem(_events(text))
        if problem is not None:
            notes.append(f"{label}: {problem}; skipped.")
            return None
        return list(YAML(typ="safe").load_all(text))
    # A safe loader still raises a few non-YAML errors on hostile input.
    except (YAMLError, ValueError, TypeError, RecursionError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        notes.append(f"{label}{where}: not valid YAML ({problem}); skipped.")
        return None


def _events(text: str) -> Iterator[str]:
    from ruamel.yaml import YAML

    for event in YAML(typ="safe").parse(text):
        yield type(event).__name__


def _yaml_bounds_problem(events: Iterator[str]) -> str | None:
    """Why a YAML stream is too deep or too alias-heavy to load, from its parser events."""
    depth = aliases = 0
    for kind in events:
        if kind in {"MappingStartEvent", "SequenceStartEvent"}:
            depth += 1
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
        elif kind in {"MappingEndEvent", "SequenceEndEvent"}:
            depth -= 1
        elif kind == "AliasEvent":
            aliases += 1
            if aliases > MAX_ALIASES:
                return f"more than {MAX_ALIASES} aliases"
    return None
