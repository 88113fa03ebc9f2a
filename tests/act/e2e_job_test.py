"""The generated deploy job of an environment with end-to-end tests, unchanged, under act:
deploy, check that this run's image is live, run the tests (under e2e.timeout), roll back when
they do not pass, and leave one true deployment record (items 6, 7, 8 and 14 of "First real
run on GitHub"). The kubectl simulator stands in for the cluster, a smoke server for the
service, and the GitHub API double for the deployment records.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import GOOD, deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ActRun, Lab, for_act, init_repo, run_act

pytestmark = pytest.mark.slow

REPO = "acme/api"
TOKEN = "ghs_e2e_act_3c9d0a"
REPOSITORY = "ghcr.io/acme/api"
NAMESPACE = "e2e-staging"
DIGEST = "sha256:" + "7" * 64
KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: e2e-t0ken-51\n"
DESCRIPTOR = """\
version: 1
name: api
image: {{ repository: acme/api }}
environments:
  - name: staging
    url: {url}
    kubernetes: {{ kubeconfig-secret: KUBE_CONFIG, namespace: {namespace}, deployment: api }}
    smoke: {{ path: /api, retries: 1, interval: 1s, expect-version: true }}
    e2e: {{ run: bash e2e.sh, timeout: 5s, rollback-on-failure: true }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
# The tests the job runs: what they do is chosen per run (E2E_MODE).
E2E_SCRIPT = """\
case "$E2E_MODE" in
  pass) echo "e2e: testing $DEPLOYED_SHA at $BASE_URL"; exit 0 ;;
  fail) echo "e2e: assertion failed"; exit 1 ;;
  hang) echo "e2e: waiting forever"; sleep 120 ;;
esac
"""
STUB_BUILD: dict[str, Any] = {
    "name": "build (stub: names an already pushed digest)",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 5,
    "permissions": {},
    "outputs": {"image": "${{ steps.stub.outputs.image }}", "digest": DIGEST},
    "steps": [{"id": "stub", "run": f'echo "image={REPOSITORY}" >> "$GITHUB_OUTPUT"'}],
}


@pytest.fixture(scope="module")
def workflow(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """cd.yml as cdgen renders it, with the build replaced by a stub."""
    directory = tmp_path_factory.mktemp("render")
    config = directory / "cdgen.yml"
    url = f"{lab.server.url}/{NAMESPACE}"
    text = DESCRIPTOR.format(url=url, namespace=NAMESPACE, ref=ACTION_REF)
    config.write_text(text, encoding="utf-8")
    generated: dict[str, Any] = YAML(typ="safe").load(
        render_target(Target(config, directory)).files[".github/workflows/cd.yml"]
    )
    jobs = {"build": STUB_BUILD, "deploy-staging": generated["jobs"]["deploy-staging"]}
    return for_act({**generated, "jobs": jobs})


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[TOKEN]) as api:
        yield api


def _run(
    lab: Lab, checkout: Path, tmp: Path, workflow: dict[str, Any], api: GitHubApi, mode: str
) -> tuple[ActRun, str]:
    repo = tmp / "repo"
    repo.mkdir()
    sha = init_repo(
        repo, {".github/workflows/cd.yml": json.dumps(workflow, indent=1), "e2e.sh": E2E_SCRIPT}
    )
    # act names the repository (GITHUB_REPOSITORY) after the origin remote.
    origin = ["git", "remote", "add", "origin", f"https://github.com/{REPO}.git"]
    subprocess.run(origin, cwd=repo, check=True)
    api.state.add_commit(REPO, "2026-01-01T00:00:00Z", sha=sha, branch="main")

    def prepare(state: dict[str, Any]) -> None:
        state["deployments"][f"{NAMESPACE}/api"] = deployment()
        state["http"][f"{REPOSITORY}@{DIGEST}"] = {"version": sha}

    lab.update(prepare)
    env = {
        "PATH": f"{lab.bin_dir}:{os.environ['PATH']}",
        "KUBE_CONFIG": KUBECONFIG,
        "GITHUB_TOKEN": TOKEN,
    }
    run = run_act(
        repo,
        checkout,
        event={"ref": "refs/heads/main", "head_commit": {"timestamp": "2026-01-01T00:00:00Z"}},
        env=env,
        secrets=("KUBE_CONFIG", "GITHUB_TOKEN"),
        extra=["--env", f"E2E_MODE={mode}", "--env", f"GITHUB_API_URL={api.url}"],
    )
    return run, sha


def _live(lab: Lab) -> str:
    return str(lab.state()["deployments"][f"{NAMESPACE}/api"]["containers"]["api"])


def _record(api: GitHubApi, sha: str) -> tuple[Any, list[tuple[str, str]]]:
    """The one deployment recorded for the commit, and its statuses oldest first."""
    (found,) = api.state.repos[REPO].deployments.values()
    statuses = [(status.state, status.description) for status in found.statuses]
    assert found.sha == sha and found.environment == "staging"
    return found, statuses


def test_tests_pass_the_record_says_success_after_them(
    lab: Lab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    run, sha = _run(lab, action_checkout, tmp_path, workflow, github, "pass")
    assert run.code == 0, run.log
    assert run.job_succeeded("deploy-staging"), run.log
    assert f"e2e: testing {sha} at {lab.server.url}/{NAMESPACE}" in run.log
    assert "::notice title=Verified::" in run.log  # this run's image, checked before the tests
    assert _live(lab) == f"{REPOSITORY}@{DIGEST}"
    found, statuses = _record(github, sha)
    assert [state for state, _ in statuses] == ["in_progress", "success"]
    assert statuses[-1][1] == "deployed; end-to-end tests passed"
    assert found.payload["image"] == f"{REPOSITORY}@{DIGEST}"
    assert TOKEN not in run.log and "e2e-t0ken" not in run.log


def test_failed_tests_roll_back_in_the_same_job_and_the_record_says_failure(
    lab: Lab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    run, sha = _run(lab, action_checkout, tmp_path, workflow, github, "fail")
    assert run.code != 0
    assert run.job_failed("deploy-staging"), run.log
    assert "e2e: assertion failed" in run.log
    assert _live(lab) == GOOD  # rolled back, with no second job and no second approval
    _, statuses = _record(github, sha)
    assert [state for state, _ in statuses] == ["in_progress", "failure"]
    assert statuses[-1][1] == "end-to-end tests did not pass; rolled back"


def test_tests_that_outlive_their_timeout_fail_and_roll_back(
    lab: Lab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    started = time.monotonic()
    run, sha = _run(lab, action_checkout, tmp_path, workflow, github, "hang")
    assert run.job_failed("deploy-staging"), run.log
    assert "End-to-end tests timed out::stopped after 5s" in run.log
    assert time.monotonic() - started < 100  # stopped at 5s, not at the sleep's 120s
    assert _live(lab) == GOOD
    _, statuses = _record(github, sha)
    assert [state for state, _ in statuses] == ["in_progress", "failure"]
