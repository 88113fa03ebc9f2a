"""Comments in the cdgen.yml `cdgen init` writes: each beside its value, with its source."""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString


def add_comment(node: CommentedMap, key: str, text: str, indent: int) -> None:
    """A comment two spaces after `key: value` on a line indented by `indent`."""
    value = node[key]
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, DoubleQuotedScalarString):
        shown = f'"{value}"'
    elif isinstance(value, list):
        shown = f"[{', '.join(str(v) for v in value)}]"  # a flow sequence
    else:
        shown = str(value)
    node.yaml_add_eol_comment(text, key, column=indent + len(key) + 2 + len(shown) + 2)


def with_source(text: str | None, source: str | None) -> str:
    """A comment's text and where its value was found: `…; from package.json`."""
    if source is None:
        return text or ""
    return f"{text}; from {source}" if text else f"from {source}"
