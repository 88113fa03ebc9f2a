"""docs/descriptor.md is generated from the schema, covers every key, and is up to date."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from support.generated import ROOT

from cdgen.reference import COMMAND, render_reference
from cdgen.resources import load_schema

DOC = ROOT / "docs" / "descriptor.md"


def schema_properties(
    node: dict[str, Any] | None = None, path: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property the schema declares, as (dotted path, schema), found independently of
    cdgen.reference so a mapping it failed to visit would still be noticed."""
    node = load_schema() if node is None else node
    for key, prop in node.get("properties", {}).items():
        dotted = f"{path}.{key}" if path else key
        yield dotted, prop
        yield from schema_properties(prop, dotted)
        if isinstance(prop.get("items"), dict):
            yield from schema_properties(prop["items"], f"{dotted}[]")


def section(doc: str, path: str) -> str:
    """The part of the reference documenting the mapping at `path` (top level: "")."""
    heading = f"\n## `{path}`\n" if path else "\n## Top level\n"
    assert heading in doc, f"no section {heading.strip()!r}"
    return doc.split(heading, 1)[1].split("\n## ", 1)[0]


def row(doc: str, dotted: str) -> str:
    path, _, key = dotted.rpartition(".")
    rows = [line for line in section(doc, path).splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"{dotted}: expected one table row, found {len(rows)}"
    return rows[0]


def test_committed_reference_is_up_to_date() -> None:
    expected = render_reference(load_schema())
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == expected, f"docs/descriptor.md is stale; run `{COMMAND}` (or ./dev docs)"


def test_every_schema_property_is_documented() -> None:
    doc = render_reference(load_schema())
    assert len(list(schema_properties())) > 30
    for dotted, prop in schema_properties():
        assert prop.get("description", "").strip(), f"{dotted}: the schema has no description"
        line = row(doc, dotted)
        assert " ".join(prop["description"].split())[:20] in line.replace("\\", "")


@pytest.mark.parametrize(
    ("dotted", "shown"),
    [
        ("branch", 'default `"main"`'),
        ("image.platforms", 'default `["linux/amd64"]`'),
        ("image.tag-latest", "default `true`"),
        ("environments[].approval", 'default `"none"`'),
        ("environments[].kubernetes.rollout-timeout", 'default `"5m"`'),
        ("environments[].smoke.retries", "default `5`"),
        ("environments[].e2e.rollback-on-failure", "default `false`"),
        ("environments[].kubernetes.namespace", "required"),
        ("version", "integer, always `1`"),
        ("environments[].approval", '`"none"`, `"reviewers"`, `"manual"`'),
        ("environments[].kubernetes.rollout-timeout", "must be a duration such as 90s, 5m or 1h"),
        ("image.platforms", "list of strings"),
    ],
)
def test_row_shows(dotted: str, shown: str) -> None:
    assert shown.lower() in row(render_reference(load_schema()), dotted).lower()


def test_every_default_appears() -> None:
    doc = render_reference(load_schema())
    for dotted, prop in schema_properties():
        if "default" in prop:
            assert f"default `{json.dumps(prop['default'], separators=(', ', ': '))}`" in row(
                doc, dotted
            ), dotted


def test_output_is_tidy() -> None:
    doc = render_reference(load_schema())
    assert doc.endswith("\n")
    assert not doc.endswith("\n\n")
    assert all(line == line.rstrip() for line in doc.splitlines())
    assert "python -m cdgen.reference" in doc.splitlines()[0]


def test_module_prints_the_reference() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "cdgen.reference"], capture_output=True, text=True, check=True
    )
    assert run.stdout == render_reference(load_schema())


def test_the_readme_names_every_module_of_the_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## Development", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    listed = set(re.findall(r"[a-z_]+(?=\.py|[,\s)]|$)", tree))
    package = ROOT / "generator" / "cdgen"
    modules = {p.stem for p in package.glob("*.py")} | {p.stem for p in package.glob("init/*.py")}
    missing = sorted(modules - listed - {"__init__"})
    assert missing == [], f"README's module list does not name {missing}"
    assert (package / "init").is_dir() and (package / "deploy").is_dir()
    assert "init/" in tree and "deploy/" in tree


def test_the_readme_role_is_the_engines_rbac_table() -> None:
    """The Role the README tells users to apply is rendered from cdgen.deploy.rbac, the same
    table `cdgen doctor` checks and the engine's tests prove sufficient and necessary."""
    from support.action_docs import ROLE_END, ROLE_START, render_role, update_document

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update_document(readme, render_role(), ROLE_START, ROLE_END) == readme, (
        "README.md is stale: run python3 tests/support/action_docs.py"
    )


def test_the_readme_cloud_commands_are_what_init_prints() -> None:
    """The README's cloud commands are rendered by the code `cdgen init` prints them with."""
    from support.action_docs import update_cloud_examples

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update_cloud_examples(readme) == readme, (
        "README.md is stale: run python3 tests/support/action_docs.py"
    )


def test_the_readme_canary_role_is_the_engines_rbac_table() -> None:
    from support.action_docs import (
        CANARY_ROLE_END,
        CANARY_ROLE_START,
        render_canary_role,
        update_document,
    )

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    canary = render_canary_role()
    assert 'resources: ["httproutes"]' in canary
    assert update_document(readme, canary, CANARY_ROLE_START, CANARY_ROLE_END) == readme, (
        "README.md is stale: run python3 tests/support/action_docs.py"
    )
