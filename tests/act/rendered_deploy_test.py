"""A pipeline rendered by cdgen: its generated deploy job, unchanged, runs the action under
act against the kubectl simulator (the build job is replaced by a stub that names a digest)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.sandbox import GOOD, deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ActRun, Lab, for_act, init_repo, run_act

pytestmark = pytest.mark.slow

REPOSITORY = "ghcr.io/acme/api"
HEALTHY = "sha256:" + "1" * 64
BROKEN = "sha256:" + "2" * 64
KUBECONFIG = (
    "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: rendered-t0ken-9f8e7d\n"
)
DESCRIPTOR = """\
version: 1
name: api
image: {{ repository: acme/api }}
environments:
  - name: staging
    url: {url}
    kubernetes: {{ kubeconfig-secret: KUBE_CONFIG, namespace: render-staging, deployment: api }}
    smoke: {{ path: /api, retries: 1, interval: 1s, expect-version: true }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
STUB_BUILD: dict[str, Any] = {
    "name": "build (stub: names an already pushed digest)",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 5,
    "permissions": {},
    "outputs": {
        "image": "${{ steps.stub.outputs.image }}",
        "digest": "${{ steps.stub.outputs.digest }}",
    },
    "steps": [
        {
            "id": "stub",
            "env": {"DIGEST": "${{ env.STUB_DIGEST }}"},
            "run": f'echo "image={REPOSITORY}" >> "$GITHUB_OUTPUT"\necho "digest=$DIGEST" >> "$GITHUB_OUTPUT"\n',
        }
    ],
}
REPORT: dict[str, Any] = {
    "name": "report the deploy job's outputs",
    "needs": ["deploy-staging"],
    "if": "always()",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 5,
    "permissions": {},
    "steps": [
        {
            "env": {
                "RESULT": "${{ needs.deploy-staging.outputs.result }}",
                "DEPLOYED": "${{ needs.deploy-staging.outputs.deployed-image }}",
                "PREVIOUS": "${{ needs.deploy-staging.outputs.previous-image }}",
            },
            "run": 'echo "REPORT result=$RESULT previous=$PREVIOUS deployed=$DEPLOYED"',
        }
    ],
}


def _pipeline(lab: Lab, directory: Path) -> dict[str, Any]:
    directory.mkdir()
    config = directory / "cdgen.yml"
    config.write_text(
        DESCRIPTOR.format(url=lab.server.url + "/render-staging", ref=ACTION_REF), encoding="utf-8"
    )
    files = render_target(Target(config, directory)).files
    workflow: dict[str, Any] = YAML(typ="safe").load(files[".github/workflows/cd.yml"])
    return workflow


@pytest.fixture(scope="module")
def rendered(
    lab: Lab, action_checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path, str]:
    base = tmp_path_factory.mktemp("rendered")
    generated = _pipeline(lab, base / "render")
    deploy_job = generated["jobs"]["deploy-staging"]
    workflow = for_act(
        {**generated, "jobs": {"build": STUB_BUILD, "deploy-staging": deploy_job, "report": REPORT}}
    )
    repo = base / "repo"
    repo.mkdir()
    sha = init_repo(repo, {".github/workflows/cd.yml": json.dumps(workflow, indent=1)})

    def prepare(state: dict[str, Any]) -> None:
        state["deployments"]["render-staging/api"] = deployment()
        state["http"][f"{REPOSITORY}@{HEALTHY}"] = {"version": sha}
        state["http"][f"{REPOSITORY}@{BROKEN}"] = {"status": 500}

    lab.update(prepare)
    return deploy_job, repo, sha


def _act(lab: Lab, checkout: Path, repo: Path, digest: str) -> ActRun:
    env = {"PATH": f"{lab.bin_dir}:{os.environ['PATH']}", "KUBE_CONFIG": KUBECONFIG}
    return run_act(
        repo,
        checkout,
        event={"ref": "refs/heads/main", "head_commit": {"timestamp": "2026-01-01T00:00:00Z"}},
        env=env,
        secrets=("KUBE_CONFIG",),
        extra=["--env", f"STUB_DIGEST={digest}"],
    )


def test_the_deploy_job_is_the_generated_one(rendered: tuple[dict[str, Any], Path, str]) -> None:
    deploy_job, _, _ = rendered
    (step,) = deploy_job["steps"]
    assert step["uses"] == f"cdgen-dev/cdgen@{ACTION_REF}"
    assert step["with"]["kubeconfig"] == "${{ secrets.KUBE_CONFIG }}"


def test_generated_deploy_job_deploys_by_digest(
    lab: Lab, action_checkout: Path, rendered: tuple[dict[str, Any], Path, str]
) -> None:
    _, repo, sha = rendered
    run = _act(lab, action_checkout, repo, HEALTHY)
    assert run.code == 0, run.log
    assert f"REPORT result=deployed previous={GOOD} deployed={REPOSITORY}@{HEALTHY}" in run.log
    assert f"HTTP 200, version {sha}" in run.summary("deploy-staging")
    assert "rendered-t0ken" not in run.log
    calls = [call for call in lab.state()["calls"] if "--namespace=render-staging" in call["argv"]]
    assert {call["kubeconfig_mode"] for call in calls} == {"0o600"}


def test_generated_deploy_job_fails_and_rolls_back(
    lab: Lab, action_checkout: Path, rendered: tuple[dict[str, Any], Path, str]
) -> None:
    live = lab.state()["deployments"]["render-staging/api"]["containers"]["api"]
    run = _act(lab, action_checkout, rendered[1], BROKEN)
    assert run.code != 0
    assert run.job_failed("deploy-staging"), run.log
    assert f"REPORT result=rolled-back previous={live} deployed={live}" in run.log
    assert lab.state()["deployments"]["render-staging/api"]["containers"]["api"] == live
