"""action.yml: inputs in step with the engine, safe run: steps, docs in step with action.yml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.action_docs import DOCUMENTS, ROOT, load_action, render_tables, update_document

from cdgen.deploy.inputs import INPUTS

ACTION = load_action()
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
RUN_STEPS = [step for step in STEPS if "run" in step]
BIN = Path(sys.executable).parent


def test_inputs_match_the_engine_with_the_same_defaults() -> None:
    engine = {spec.name: spec.default for spec in INPUTS if spec.name != "kubeconfig-file"}
    action = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    assert action == engine


def test_every_input_reaches_the_engine_through_env() -> None:
    (engine,) = RUN_STEPS
    expected = {
        spec.env: f"${{{{ inputs.{spec.name} }}}}"
        for spec in INPUTS
        if spec.name in ACTION["inputs"]
    }
    assert engine["env"] == expected


def test_every_input_and_output_is_described() -> None:
    for spec in [*ACTION["inputs"].values(), *ACTION["outputs"].values()]:
        assert spec["description"].strip()
    single = {"result", "previous-image", "deployed-image", "deployment-id"}
    assert set(ACTION["outputs"]) == single | {"services", "matrix", "any"}
    assert ACTION["branding"]["icon"] and ACTION["branding"]["color"]


@pytest.mark.parametrize("step", RUN_STEPS, ids=lambda step: step["name"])
def test_run_steps_are_safe(step: dict[str, Any], tmp_path: Path) -> None:
    assert step["shell"] == "bash"
    assert "${{" not in step["run"]
    assert "github.action_path" not in step["run"]
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\nset -e\n" + step["run"], encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "shellcheck"), "--shell=bash", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_zizmor_pedantic_finds_nothing_in_action_yml() -> None:
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--persona",
            "pedantic",
            "--no-progress",
            str(ROOT / "action.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_docs_table_is_up_to_date(path: Path) -> None:
    docs = path.read_text(encoding="utf-8")
    assert update_document(docs, render_tables(ACTION)) == docs, (
        f"{path.name} is stale: run python3 tests/support/action_docs.py"
    )


def test_docs_update_replaces_only_between_the_markers() -> None:
    document = "intro\n<!-- action-inputs:start -->\nold\n<!-- action-inputs:end -->\noutro\n"
    updated = update_document(document, "new\n")
    assert (
        updated == "intro\n<!-- action-inputs:start -->\nnew\n<!-- action-inputs:end -->\noutro\n"
    )
    with pytest.raises(ValueError, match="markers"):
        update_document("no markers", "x")


def _action_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if re.match(r"[\w-]+/cdgen@", str(step.get("uses", "")))
    ]


# What each mode cannot run without; mode record touches no cluster, so it names none.
CLUSTER = {"image", "namespace", "deployment"}
NEEDED = {
    "deploy": CLUSTER,
    "rollback": CLUSTER,
    "verify": CLUSTER,
    "record": {"deployment-id", "record-state", "github-token"},
}
# A static site's steps (target vercel or cloudflare-pages) name its project, not a cluster.
SITE = {"target", "site-project", "site-account", "site-token", "environment"}
# A monorepo's steps (`services`): each service's Deployment comes from the `services` table,
# its image from `images` (the build's or the checked one) or from an earlier step's `results`.
FLEET = {
    "deploy": {"services", "images", "namespace"},
    "verify": {"services", "images", "namespace"},
    "rollback": {"services", "namespace"},
    "record": {"results", "github-token"},
    "changes": {"services", "environment"},
}


def test_generated_deploy_jobs_use_exactly_these_inputs() -> None:
    yaml = YAML(typ="safe")
    used: set[str] = set()
    modes: set[str] = set()
    for golden in sorted((ROOT / "tests" / "goldens").glob("*.yml")):
        files = yaml.load(golden.read_text(encoding="utf-8"))["files"]
        for name, text in files.items():
            if name.startswith(".github/workflows/"):
                for step in _action_steps(yaml.load(text)):
                    inputs = set(step["with"])
                    where = f"{golden.name}: {name}: {step.get('name')}"
                    assert inputs <= set(ACTION["inputs"]), where
                    mode = step["with"].get("mode", "deploy")
                    site = step["with"].get("target", "kubernetes") != "kubernetes"
                    fleet = "services" in inputs or "results" in inputs
                    needed = SITE if site else FLEET[mode] if fleet else NEEDED[mode]
                    assert needed <= inputs, where
                    if fleet and mode == "rollback":
                        assert len(inputs & {"images", "results"}) == 1, where
                    if fleet:
                        assert not inputs & {"image", "deployment", "container"}, where
                    if mode == "record":
                        assert not inputs & CLUSTER, where
                    if site:
                        assert not inputs & {"namespace", "deployment", "kubeconfig"}, where
                    modes.add(mode)
                    used |= inputs
    assert {"kubeconfig", "github-token", "commit", "record-open", "site-production"} <= used
    assert modes == set(FLEET)
