"""A monorepo's generated cd.yml under act: of three services, only the one whose files
changed since its last successful deploy to the last environment is built and deployed to
staging, then production, and a failed smoke test rolls back only that one; with two
changed, one failure rolls back both (issue 12).

The `changes`, `deploy-staging` and `deploy-production` jobs run as cdgen renders them; the build job keeps its
matrix, condition, outputs and its shell steps, with the docker build and push replaced by a
step that names an already pushed digest (no registry here); with two legs, its outputs are
computed in every leg, as act does not merge them (see ``merged_outputs``). The history is
a real git repository built by the test, the deployment records are in the GitHub API
double, the cluster is the kubectl simulator and each service's smoke URL is answered by
the smoke server after the image its Deployment serves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.git_history import GitHistory
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ActRun, Lab, for_act, run_act

pytestmark = pytest.mark.slow

REPO = "acme/shop"
TOKEN = "ghs_services_act_8b1e"
ENVIRONMENTS = ("staging", "production")  # namespaces services-staging, services-production
SERVICES = ("cart", "catalog", "web")
CHANGED, UNCHANGED = "cart", ("catalog", "web")
HEALTHY = "sha256:" + "5" * 64
BROKEN = "sha256:" + "6" * 64
SET_IMAGE, UNDO = ["set", "image"], ["rollout", "undo"]
KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: svc-t0ken-77\n"
DESCRIPTOR = """\
version: 1
name: shop
services:
  - {{ name: cart, image: {{ context: src/cart }}, smoke: {{ path: /cart }} }}
  - {{ name: catalog, image: {{ context: src/catalog }}, smoke: {{ path: /catalog }} }}
  - {{ name: web, image: {{ context: src/web }}, smoke: {{ path: /web }} }}
environments:
  - name: staging
    url: {url}/services-staging
    kubernetes: {{ kubeconfig-secret: KUBE_CONFIG, namespace: services-staging }}
    smoke: {{ path: /health, retries: 1, interval: 1s, expect-version: true }}
  - name: production
    url: {url}/services-production
    kubernetes: {{ kubeconfig-secret: KUBE_CONFIG, namespace: services-production }}
    smoke: {{ path: /health, retries: 1, interval: 1s, expect-version: true }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
SOURCES = {f"src/{name}/main.go": f"package main // {name} v1\n" for name in SERVICES}
# Stands in for docker/build-push-action: the digest the registry would answer with.
STUB_PUSH: dict[str, Any] = {
    "name": "Push the tested image (stub: names an already pushed digest)",
    "id": "push",
    "env": {"DIGEST": "${{ env.STUB_DIGEST }}", "SERVICE": "${{ matrix.service }}"},
    "run": 'echo "STUB-BUILD $SERVICE at $GITHUB_SHA"\necho "digest=$DIGEST" >> "$GITHUB_OUTPUT"\n',
}


def live_image(service: str) -> str:
    return f"ghcr.io/{REPO}/{service}:v1"


def new_image(service: str, digest: str) -> str:
    return f"ghcr.io/{REPO}/{service}@{digest}"


@pytest.fixture(scope="module")
def generated(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("render-services")
    config = directory / "cdgen.yml"
    config.write_text(DESCRIPTOR.format(url=lab.server.url, ref=ACTION_REF), "utf-8")
    files = render_target(Target(config, directory)).files
    workflow: dict[str, Any] = YAML(typ="safe").load(files[".github/workflows/cd.yml"])
    return workflow


@pytest.fixture(scope="module")
def workflow(generated: dict[str, Any]) -> dict[str, Any]:
    """cd.yml for act: the build's docker steps replaced by the stub push."""
    jobs = generated["jobs"]
    build = jobs["build"]
    steps = {step.get("id"): step for step in build["steps"]}
    stub_build = {**build, "steps": [steps["name"], STUB_PUSH, steps["publish"]]}
    deploys = {f"deploy-{env}": jobs[f"deploy-{env}"] for env in ENVIRONMENTS}
    kept = {"changes": jobs["changes"], "build": stub_build, **deploys}
    return for_act({**generated, "jobs": kept})


def merged_outputs(workflow: dict[str, Any]) -> dict[str, Any]:
    """The workflow with the build's outputs computed alike in every matrix leg. GitHub
    merges the outputs of a matrix job's legs, each leg setting the one named after its
    service; act keeps the first leg's and drops the rest (nektos/act#981), so under act
    every leg computes them all from the `changes` job's list instead."""
    jobs = workflow["jobs"]
    changed = "fromJSON(needs.changes.outputs.services)"
    outputs = {
        service: f"${{{{ contains({changed}, '{service}') && "
        f"format('ghcr.io/{REPO}/{service}@{{0}}', env.STUB_DIGEST) || '' }}}}"
        for service in jobs["build"]["outputs"]
    }
    return {**workflow, "jobs": {**jobs, "build": {**jobs["build"], "outputs": outputs}}}


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[TOKEN]) as api:
        yield api


@pytest.fixture
def history(tmp_path: Path, github: GitHubApi, workflow: dict[str, Any], lab: Lab) -> GitHistory:
    """Every service deployed to production from the first commit (records and cluster
    agree), then a commit that changes only cart's files. Only the last environment's records
    count: staging's are left out, and were they read, every service would count as changed."""
    repo = GitHistory(tmp_path / "shop", github.state, REPO)
    files = {**SOURCES, "README.md": "shop\n"}
    files[".github/workflows/cd.yml"] = json.dumps(workflow, indent=1)
    first = repo.commit(files, "the shop")
    for number, service in enumerate(SERVICES):
        github.state.add_deployment(
            REPO,
            first,
            "production",
            [
                ("in_progress", f"2026-01-02T00:0{number}:00Z"),
                ("success", f"2026-01-02T00:0{number}:30Z"),
            ],
            payload={"image": live_image(service), "tool": "cdgen", "service": service},
        )
    repo.commit({f"src/{CHANGED}/main.go": "package main // cart v2\n"}, "cart v2")
    # act names the repository (GITHUB_REPOSITORY) after the origin remote.
    repo.git("remote", "add", "origin", f"https://github.com/{REPO}.git")

    def prepare(state: dict[str, Any]) -> None:
        for service in SERVICES:
            for env in ENVIRONMENTS:
                state["deployments"][f"services-{env}/{service}"] = deployment(
                    live_image(service), container=service
                )
            state["http"][live_image(service)] = {}
        state["http"][new_image(CHANGED, HEALTHY)] = {"version": repo.shas[-1]}
        state["http"][new_image(CHANGED, BROKEN)] = {"status": 500}
        state["calls"] = []

    lab.update(prepare)
    return repo


def run_pipeline(
    lab: Lab, checkout: Path, history: GitHistory, api: GitHubApi, digest: str
) -> ActRun:
    before, after = history.shas[-2], history.shas[-1]
    return run_act(
        history.root,
        checkout,
        event={
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "head_commit": {"id": after, "timestamp": "2026-01-03T00:00:00Z"},
        },
        env={
            "PATH": f"{lab.bin_dir}:{os.environ['PATH']}",
            "KUBE_CONFIG": KUBECONFIG,
            "GITHUB_TOKEN": TOKEN,
        },
        secrets=("KUBE_CONFIG", "GITHUB_TOKEN"),
        extra=["--env", f"STUB_DIGEST={digest}", "--env", f"GITHUB_API_URL={api.url}"],
        timeout=400,
    )


def live(lab: Lab, env: str) -> dict[str, str]:
    deployments = lab.state()["deployments"]
    return {s: deployments[f"services-{env}/{s}"]["containers"][s] for s in SERVICES}


UNTOUCHED = {service: live_image(service) for service in SERVICES}


def calls(lab: Lab) -> list[list[str]]:
    return [call["argv"] for call in lab.state()["calls"]]


def kubectl_targets(lab: Lab) -> set[str]:
    """Every Deployment a kubectl call named, read or write, as NAMESPACE/NAME."""
    named: set[str] = set()
    for call in lab.state()["calls"]:
        flags = [w for w in call["argv"] if w.startswith("--namespace=")]
        namespace = flags[0].split("=", 1)[1] if flags else "(none)"
        for word in call["argv"]:
            for service in SERVICES:
                if word in (service, f"deployment/{service}", f"deployments/{service}"):
                    named.add(f"{namespace}/{service}")
    return named


def new_records(api: GitHubApi, sha: str) -> dict[str, list[str]]:
    """The records this run made (of the pushed commit): ENVIRONMENT/SERVICE → its states."""
    found = {}
    for record in api.state.repos[REPO].deployments.values():
        if record.sha == sha:
            where = f"{record.environment}/{record.payload['service']}"
            found[where] = [status.state for status in record.statuses]
    return found


def builds(run: ActRun) -> list[str]:
    return sorted(
        line.split("STUB-BUILD ", 1)[1].split()[0]
        for line in run.log.splitlines()
        if "STUB-BUILD " in line and "echo" not in line
    )


def test_only_the_changed_service_is_built_and_deployed(
    lab: Lab, action_checkout: Path, history: GitHistory, github: GitHubApi
) -> None:
    run = run_pipeline(lab, action_checkout, history, github, HEALTHY)
    assert run.code == 0, run.log
    for job in ("changes", "build", "deploy-staging", "deploy-production"):
        assert run.job_succeeded(job), run.log
    first = history.shas[0][:12]
    assert f"{CHANGED}: changed: src/{CHANGED}/main.go changed since {first}" in run.log
    for service in UNCHANGED:
        assert f"{service}: unchanged: unchanged since {first}" in run.log
    assert builds(run) == [CHANGED]
    for env in ENVIRONMENTS:
        assert live(lab, env) == {**UNTOUCHED, CHANGED: new_image(CHANGED, HEALTHY)}
    assert kubectl_targets(lab) == {f"services-{env}/{CHANGED}" for env in ENVIRONMENTS}
    assert new_records(github, history.shas[-1]) == {
        f"{env}/{CHANGED}": ["in_progress", "success"] for env in ENVIRONMENTS
    }
    assert TOKEN not in run.log and "svc-t0ken" not in run.log


def test_a_failed_smoke_test_rolls_back_only_what_changed(
    lab: Lab, action_checkout: Path, history: GitHistory, github: GitHubApi
) -> None:
    run = run_pipeline(lab, action_checkout, history, github, BROKEN)
    assert run.code != 0
    assert run.job_failed("deploy-staging"), run.log
    assert not run.job_succeeded("deploy-production") and not run.job_failed("deploy-production")
    assert builds(run) == [CHANGED]
    assert live(lab, "staging") == live(lab, "production") == UNTOUCHED
    assert kubectl_targets(lab) == {f"services-staging/{CHANGED}"}
    sets = [argv for argv in calls(lab) if argv[:2] == SET_IMAGE]
    assert sets and all(f"deployment/{CHANGED}" in argv for argv in sets), sets
    assert new_records(github, history.shas[-1]) == {
        f"staging/{CHANGED}": ["in_progress", "failure"]
    }


def test_one_failure_rolls_back_every_service_this_run_changed(
    lab: Lab,
    action_checkout: Path,
    history: GitHistory,
    github: GitHubApi,
    workflow: dict[str, Any],
) -> None:
    """cart and catalog changed: catalog's deploy passes, cart's smoke test fails, so the
    rollback step takes catalog back too; web is never touched, nor is production."""
    files = {".github/workflows/cd.yml": json.dumps(merged_outputs(workflow), indent=1)}
    history.commit(files, "act: the build's outputs computed in every leg")
    head = history.commit({"src/catalog/main.go": "package main // catalog v2\n"}, "catalog v2")
    lab.update(
        lambda state: state["http"].update({new_image("catalog", BROKEN): {"version": head}})
    )
    run = run_pipeline(lab, action_checkout, history, github, BROKEN)
    assert run.job_failed("deploy-staging"), run.log
    assert builds(run) == ["cart", "catalog"]
    assert live(lab, "staging") == live(lab, "production") == UNTOUCHED
    assert kubectl_targets(lab) == {"services-staging/cart", "services-staging/catalog"}
    # cart's engine undid its own deploy; the rollback step then set catalog's image back.
    assert "rollback: 1 service(s): catalog" in run.log
    mutations = [argv[:4] for argv in calls(lab) if argv[:2] in (SET_IMAGE, UNDO)]
    assert sorted(mutations) == [
        [*UNDO, "deployment/cart", "--to-revision=1"],
        [*SET_IMAGE, "deployment/cart", f"cart={new_image('cart', BROKEN)}"],
        [*SET_IMAGE, "deployment/catalog", f"catalog={live_image('catalog')}"],
        [*SET_IMAGE, "deployment/catalog", f"catalog={new_image('catalog', BROKEN)}"],
    ]
    assert mutations[-1][3] == f"catalog={live_image('catalog')}"  # after both deploys
    records = new_records(github, head)
    assert set(records) == {"staging/cart", "staging/catalog"}
    assert records["staging/cart"] == ["in_progress", "failure"]
    assert records["staging/catalog"][0] == "in_progress"
    assert records["staging/catalog"][-1] == "failure"
