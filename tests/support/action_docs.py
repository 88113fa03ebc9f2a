#!/usr/bin/env python3
"""The inputs/outputs reference of action.yml, as Markdown tables in docs/action.md.

``python3 tests/support/action_docs.py`` rewrites the part of docs/action.md between the
markers; a test fails when it is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
START = "<!-- action-inputs:start -->"
END = "<!-- action-inputs:end -->"


def load_action(path: Path = ROOT / "action.yml") -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return loaded


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_tables(action: dict[str, Any]) -> str:
    lines = ["| Input | Required | Default | Description |", "|---|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = spec.get("default", "")
        shown = f"`{default}`" if default != "" else ""
        required = "yes" if spec.get("required") else "no"
        lines.append(f"| `{name}` | {required} | {shown} | {_cell(spec['description'])} |")
    lines += ["", "| Output | Description |", "|---|---|"]
    for name, spec in action["outputs"].items():
        lines.append(f"| `{name}` | {_cell(spec['description'])} |")
    return "\n".join(lines) + "\n"


def update_document(document: str, tables: str) -> str:
    pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"markers {START} / {END} not found")
    return pattern.sub(lambda _: f"{START}\n{tables}{END}", document)


# Every document carrying the generated inputs/outputs tables.
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "action.md")


def main() -> int:
    tables = render_tables(load_action())
    for docs in DOCUMENTS:
        current = docs.read_text(encoding="utf-8")
        updated = update_document(current, tables)
        if updated != current:
            docs.write_text(updated, encoding="utf-8")
            print(f"updated {docs.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
