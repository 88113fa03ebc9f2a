"""Every generated file passes actionlint (with shellcheck), zizmor pedantic and the
GitHub workflow schema with zero findings, and follows cdgen's security rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import GOLDENS, ROOT, render_descriptor, tool, write_files

from cdgen.pins import PINS

SCENARIOS = sorted(p.stem for p in GOLDENS.glob("*.yml"))
_SHA_PIN = re.compile(r"^(?P<action>[^@\s]+)@(?P<sha>[0-9a-f]{40})$")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every golden scenario rendered into its own directory."""
    yaml = YAML(typ="safe")
    roots: dict[str, Path] = {}
    for name in SCENARIOS:
        root = tmp_path_factory.mktemp(name)
        descriptor = yaml.load((GOLDENS / f"{name}.yml").read_text())["descriptor"]
        write_files(root, render_descriptor(root, descriptor))
        # A repository of its own, as a user's is: actionlint reads the project's
        # .github/actionlint.yaml (cdgen's, declaring self-hosted runner labels) from there.
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        roots[name] = root
    # The bundled example, exactly as committed.
    roots["hello-api"] = ROOT / "examples" / "hello-api"
    return roots


def _workflows(rendered: dict[str, Path]) -> list[Path]:
    return sorted(p for root in rendered.values() for p in root.glob(".github/workflows/*.yml"))


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


def test_actionlint_with_shellcheck(rendered: dict[str, Path]) -> None:
    files = _workflows(rendered)
    assert len(files) == 5 * (len(SCENARIOS) + 1)
    result = _run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-no-color", *map(str, files)]
    )
    assert result.stdout + result.stderr == ""
    assert result.returncode == 0


def test_zizmor_pedantic(rendered: dict[str, Path]) -> None:
    dirs = [str(root) for root in rendered.values()]
    result = _run(
        [tool("zizmor"), "--offline", "--persona", "pedantic", "--format", "plain", *dirs]
    )
    assert "No findings to report" in result.stdout + result.stderr, result.stdout
    assert result.returncode == 0


def test_github_workflow_schema(rendered: dict[str, Path]) -> None:
    files = list(map(str, _workflows(rendered)))
    result = _run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files])
    assert result.returncode == 0, result.stdout + result.stderr


def _steps(rendered: dict[str, Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    yaml = YAML(typ="safe")
    for path in _workflows(rendered):
        workflow = yaml.load(path.read_text())
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                yield f"{path.parent.parent.parent.name}/{path.name}:{job_id}", step


def test_every_with_key_is_an_input_of_the_pinned_action(rendered: dict[str, Path]) -> None:
    checked = 0
    for where, step in _steps(rendered):
        match = _SHA_PIN.match(step.get("uses", ""))
        if not match or match["action"] not in PINS:
            continue
        unknown = set(step.get("with", {})) - PINS[match["action"]].inputs
        assert not unknown, f"{where}: {match['action']} has no input(s) {sorted(unknown)}"
        checked += 1
    assert checked > 0


def test_every_uses_is_pinned_with_its_release_tag(rendered: dict[str, Path]) -> None:
    """Every action by full commit SHA with its release tag; cdgen's own action from a build
    that is not a release (the tests' stamp) has its commit and no tag to name."""
    own = json.loads(os.environ["CDGEN_BUILD_STAMP"])["commit"]
    for path in _workflows(rendered):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            if line.rstrip().endswith(f"/cdgen@{own}"):
                continue
            match = re.search(r"uses: (\S+)@(\S+) # (v\S+)$", line)
            assert match, f"{path}: unpinned or uncommented: {line.strip()}"
            action, ref, tag = match.groups()
            assert re.fullmatch(r"[0-9a-f]{40}", ref), line
            if action in PINS:
                assert (ref, tag) == (PINS[action].sha, PINS[action].tag), line


def test_security_rules(rendered: dict[str, Path]) -> None:
    yaml = YAML(typ="safe")
    for path in _workflows(rendered):
        text = path.read_text()
        workflow = yaml.load(text)
        assert workflow["permissions"] == {}, path
        assert "pull_request_target" not in workflow["on"] and "workflow_run" not in workflow["on"]
        assert "npm install" not in text
        for job_id, job in workflow["jobs"].items():
            assert "timeout-minutes" in job, f"{path}:{job_id}"
            assert "permissions" in job, f"{path}:{job_id}"
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path}:{job_id}: expression in run"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


def test_deploys_use_the_digest_and_never_rebuild(rendered: dict[str, Path]) -> None:
    yaml = YAML(typ="safe")
    for root in rendered.values():
        cd = yaml.load((root / ".github/workflows/cd.yml").read_text())
        for job_id, job in cd["jobs"].items():
            uses = [s.get("uses", "") for s in job.get("steps", [])]
            if job_id != "build":
                assert not any(u.startswith("docker/build-push-action@") for u in uses), job_id
            if job_id.startswith("deploy-"):
                (deploy,) = [s for s in job["steps"] if s.get("id") == "deploy"]
                # A static site's build once is checked in site_pipeline_rules_test.py.
                if deploy["with"].get("target", "kubernetes") == "kubernetes":
                    image = deploy["with"]["image"]
                    assert "digest" in image or "promotion" in image, (job_id, image)
                assert job["concurrency"]["cancel-in-progress"] is False


def test_the_example_pins_a_commit_whose_action_takes_every_input_it_passes() -> None:
    """The example pins an earlier commit of this repository: its action.yml inputs are
    recorded in tests/data (the pins workflow checks the record against git online), so this
    holds in a clone without history."""
    example = ROOT / "examples" / "hello-api"
    config = YAML(typ="safe").load((example / "cdgen.yml").read_text())
    record = json.loads((ROOT / "tests/data/own-action-inputs.json").read_text())
    inputs = set(record[config["action"]["ref"]])
    yaml = YAML(typ="safe")
    passed = 0
    for path in sorted((example / ".github/workflows").glob("*.yml")):
        for job in yaml.load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("cdgen-dev/cdgen@"):
                    assert set(step["with"]) <= inputs, (path.name, set(step["with"]) - inputs)
                    passed += 1
    assert passed > 0
