#!/usr/bin/env python3
"""Documentation generated from the code: the inputs/outputs reference of action.yml, as
Markdown tables in README.md and docs/action.md, the Role the deploy needs (from the
engine's RBAC table) and the cloud commands `cdgen init` prints (support/cloud_docs.py) in
README.md.

``python3 tests/support/action_docs.py`` rewrites the parts between the markers; a test fails
when one is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

if __package__ in (None, ""):  # run as a program: make the `support` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def update_document(document: str, tables: str, start: str = START, end: str = END) -> str:
    pattern = re.compile(re.escape(start) + r"\n.*?" + re.escape(end), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"markers {start} / {end} not found")
    return pattern.sub(lambda _: f"{start}\n{tables}{end}", document)


ROLE_START = "<!-- rbac-role:start -->"
ROLE_END = "<!-- rbac-role:end -->"


def render_role() -> str:
    """The Role of every permission the engine needs, for a namespace named `staging`."""
    from cdgen.deploy.rbac import role_manifest

    return "```yaml\n" + role_manifest("staging") + "```\n"


def update_cloud_examples(document: str) -> str:
    """The README's example commands for each cloud, as `cdgen init` prints them."""
    from support.cloud_docs import EXAMPLES, markers, render_example

    for cloud in EXAMPLES:
        document = update_document(document, render_example(cloud), *markers(cloud))
    return document


CANARY_ROLE_START = "<!-- rbac-role-canary:start -->"
CANARY_ROLE_END = "<!-- rbac-role-canary:end -->"


def render_canary_role() -> str:
    """What a canary needs beyond the deploy's Role (the gateway's rules included)."""
    from cdgen.deploy.rbac import CANARY, CANARY_GATEWAY, role_manifest

    role = role_manifest("staging", "cdgen-canary", features=(CANARY, CANARY_GATEWAY))
    return "```yaml\n" + role + "```\n"


# Every document carrying the generated inputs/outputs tables.
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "action.md")


def main() -> int:
    tables = render_tables(load_action())
    for docs in DOCUMENTS:
        current = docs.read_text(encoding="utf-8")
        updated = update_document(current, tables)
        if docs.name == "README.md":
            updated = update_document(updated, render_role(), ROLE_START, ROLE_END)
            updated = update_cloud_examples(updated)
            canary = render_canary_role()
            updated = update_document(updated, canary, CANARY_ROLE_START, CANARY_ROLE_END)
        if updated != current:
            docs.write_text(updated, encoding="utf-8")
            print(f"updated {docs.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
