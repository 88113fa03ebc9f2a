"""The project's own workflows: actionlint, zizmor pedantic, the workflow schema, and pins
that match cdgen's pin table (SHA, tag comment, and the inputs of that version)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from cdgen.pins import pin

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
USES = re.compile(r"uses: (?P<repo>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?: # (?P<tag>\S+))?")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return loaded


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / name), *args], capture_output=True, text=True, check=False)


def test_the_project_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS} == {
        "tests.yml",
        "self-test.yml",
        "release.yml",
        "pins.yml",
    }


def test_actionlint_with_shellcheck() -> None:
    done = _tool("actionlint", "-shellcheck", str(BIN / "shellcheck"), *map(str, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_pedantic() -> None:
    done = _tool(
        "zizmor", "--offline", "--persona", "pedantic", "--no-progress", *map(str, WORKFLOWS)
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_valid_against_the_workflow_schema() -> None:
    done = _tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_as_the_pin_table_says(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for match in USES.finditer(text):
        expected = pin(match.group("repo"))
        assert (match.group("ref"), match.group("tag")) == (expected.sha, expected.tag)
    for job in _load(path)["jobs"].values():
        for step in job.get("steps", []):
            uses = str(step.get("uses", ""))
            if uses.startswith("./") or not uses:
                continue
            inputs = set(step.get("with", {}))
            assert inputs <= pin(uses.split("@", maxsplit=1)[0]).inputs, f"{path.name}: {uses}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_least_privilege_and_bounded_jobs(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}
    assert "pull_request_target" not in workflow["on"] and "workflow_run" not in workflow["on"]
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, name
        assert "uses" in job or "timeout-minutes" in job, name
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", "")
