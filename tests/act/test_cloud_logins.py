"""Registry and cluster logins of generated workflows under act, unchanged: the cloud login
actions are stand-ins that check every input (support/cloud_standins.py), `aws`, `az` and
`kubelogin` stand-ins on PATH accept only what the workflows run (support/cloud_cli.py), and
the deploy goes through the real action to the kubectl simulator, which records the ambient
kubeconfig each kubectl call used. The rollback workflow's `resolve` job logs in to the
registry before it reads the image (the fake docker refuses a registry it has no login for).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.cloud_cli import AKS_SERVER_ID, write_tools
from support.cloud_standins import write_standins
from support.fake_gh import write_fake_gh
from support.fake_gh_attest import attestation
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import GOOD, deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ROOT, ActRun, Lab, for_act, init_repo, run_act

pytestmark = pytest.mark.slow

REPO = "acme/api"
TOKEN = "ghs_cloud_act_5e1f2a"
DIGEST = "sha256:" + "c" * 64
COMMIT = "5" * 40
ROLE = "arn:aws:iam::210987654321:role/cdgen-deploy-staging"
UUID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
PROVIDER = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme"


@dataclass(frozen=True)
class Cloud:
    kind: str
    image: str  # the descriptor's image block
    cluster: str  # its environment's kubernetes block, after the namespace
    registry: str
    repository: str
    auth: str  # how kubectl authenticated, as the simulator records it
    runner: str = "ubuntu-latest"


CLOUDS = {
    "eks": Cloud(
        "eks",
        "  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n  repository: acme/api\n"
        '  login: { aws: { role: "arn:aws:iam::123456789012:role/cdgen-push", '
        "region: eu-west-1 } }\n",
        f'      eks: {{ cluster: staging, region: eu-west-1, role: "{ROLE}" }}\n',
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "acme/api",
        "aws --region eu-west-1 eks get-token --cluster-name staging --output json",
    ),
    "gke": Cloud(
        "gke",
        "  registry: europe-west1-docker.pkg.dev\n  repository: acme-ci/containers/api\n"
        f"  login: {{ gcp: {{ workload-identity-provider: {PROVIDER}, "
        "service-account: cdgen-push@acme-ci.iam.gserviceaccount.com } }\n",
        "      gke:\n        cluster: staging\n        location: europe-west1\n"
        f"        project: acme-staging\n        workload-identity-provider: {PROVIDER}\n"
        "        service-account: cdgen-deploy@acme-staging.iam.gserviceaccount.com\n",
        "europe-west1-docker.pkg.dev",
        "acme-ci/containers/api",
        "token",
    ),
    "aks": Cloud(
        "aks",
        "  registry: acmeprod.azurecr.io\n  repository: api\n"
        f"  login: {{ azure: {{ client-id: {UUID}, tenant-id: {UUID}, subscription-id: {UUID} }} }}\n",
        f"      aks: {{ cluster: aks-staging, resource-group: rg-staging, client-id: {UUID}, "
        f"tenant-id: {UUID}, subscription-id: {UUID} }}\n",
        "acmeprod.azurecr.io",
        "api",
        f"kubelogin get-token --login azurecli --server-id {AKS_SERVER_ID}",
        runner="cloud-private",
    ),
}
DESCRIPTOR = """\
version: 1
name: api
image:
{image}environments:
  - name: staging
    url: {url}
{runs_on}    kubernetes:
      namespace: {namespace}
{cluster}    smoke: {{ path: /api, retries: 1, interval: 1s }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
STUB_BUILD: dict[str, Any] = {
    "name": "build (stub: names an already pushed digest)",
    "runs-on": "ubuntu-latest",
    "timeout-minutes": 5,
    "permissions": {},
    "outputs": {"image": "${{ steps.stub.outputs.image }}", "digest": DIGEST},
    "steps": [
        {
            "id": "stub",
            "env": {"IMAGE": "${{ env.STUB_IMAGE }}"},
            "run": 'echo "image=$IMAGE" >> "$GITHUB_OUTPUT"',
        }
    ],
}


@dataclass(frozen=True)
class Tools:
    path: str  # PATH: stand-in tools, fake docker and gh, the kubectl simulator
    act_arguments: list[str]
    kubelogin_dir: Path
    docker_state: Path


@pytest.fixture(scope="module")
def tools(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Tools:
    base = tmp_path_factory.mktemp("cloud-tools")
    bin_dir, kubelogin_dir = write_tools(base / "cli")
    arguments = write_standins(base / "standins")
    docker_state = base / "docker.json"
    docker = bin_dir / "docker"
    docker.write_text(
        f"#!/bin/sh\nFAKE_DOCKER_STATE='{docker_state}' exec '{_python()}' "
        f"'{ROOT / 'tests/support/fake_docker.py'}' \"$@\"\n",
        encoding="utf-8",
    )
    docker.chmod(0o755)
    tags = {f"{c.registry}/{c.repository}:{COMMIT}": DIGEST for c in CLOUDS.values()}
    docker_state.write_text(json.dumps({"tags": tags, "require_login": True}), encoding="utf-8")
    gh_bin = write_fake_gh(base / "gh", {DIGEST: [attestation(REPO, COMMIT)]}, _python())
    path = os.pathsep.join(map(str, (bin_dir, gh_bin, lab.bin_dir, os.environ["PATH"])))
    return Tools(path, arguments, kubelogin_dir, docker_state)


def _python() -> str:
    import sys

    return sys.executable


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[TOKEN]) as api:
        api.state.add_commit(REPO, "2026-01-01T00:00:00Z", sha=COMMIT, branch="main")
        yield api


def _render(cloud: Cloud, lab: Lab, directory: Path) -> dict[str, Any]:
    namespace = f"cloud-{cloud.kind}"
    runs_on = f"    runs-on: {cloud.runner}\n" if cloud.runner != "ubuntu-latest" else ""
    text = DESCRIPTOR.format(
        image=cloud.image,
        cluster=cloud.cluster,
        namespace=namespace,
        runs_on=runs_on,
        url=f"{lab.server.url}/{namespace}",
        ref=ACTION_REF,
    )
    directory.mkdir()
    (directory / "cdgen.yml").write_text(text, encoding="utf-8")
    files = render_target(Target(directory / "cdgen.yml", directory)).files
    return {rel: YAML(typ="safe").load(body) for rel, body in files.items() if rel.endswith(".yml")}


def _prepare(lab: Lab, cloud: Cloud) -> str:
    image = f"{cloud.registry}/{cloud.repository}@{DIGEST}"

    def change(state: dict[str, Any]) -> None:
        state["deployments"][f"cloud-{cloud.kind}/api"] = deployment()
        state["http"][image] = {}
        state["calls"] = []

    lab.update(change)
    return image


def _act(
    tmp: Path,
    tools: Tools,
    checkout: Path,
    workflow: dict[str, Any],
    api: GitHubApi,
    *,
    dispatch: bool,
    runner: str,
    extra_env: tuple[str, ...] = (),
    secrets: tuple[str, ...] = (),
    kubeconfig: str = "",
) -> tuple[ActRun, list[dict[str, Any]]]:
    repo = tmp / "repo"
    repo.mkdir()
    sha = init_repo(repo, {".github/workflows/run.yml": json.dumps(for_act(workflow), indent=1)})
    api.state.add_commit(REPO, "2026-01-02T00:00:00Z", (COMMIT,), sha=sha, branch="main")
    subprocess.run(
        ["git", "remote", "add", "origin", f"https://github.com/{REPO}.git"], cwd=repo, check=True
    )
    log = tmp / "standins.jsonl"
    log.write_text("", encoding="utf-8")
    event: dict[str, Any] = {"ref": "refs/heads/main"}
    if dispatch:
        event["inputs"] = {"environment": "staging", "image": COMMIT}
    extra = [*tools.act_arguments, "--env", f"GITHUB_API_URL={api.url}", *extra_env]
    extra += ["--env", f"CDGEN_FAKE_GITHUB_API={api.url}"]
    if runner != "ubuntu-latest":
        extra += ["-P", f"{runner}=-self-hosted"]
    env = {
        "PATH": tools.path,
        "CLOUD_STANDIN_LOG": str(log),
        "STANDIN_KUBELOGIN_DIR": str(tools.kubelogin_dir),
        "GITHUB_TOKEN": TOKEN,
        "KUBE_CONFIG": kubeconfig,
    }
    run = run_act(
        repo,
        checkout,
        event=event,
        env=env,
        secrets=("GITHUB_TOKEN", *secrets),
        extra=extra,
        event_name="workflow_dispatch" if dispatch else "push",
    )
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return run, entries


def _kubectl_auth(lab: Lab, cloud: Cloud) -> set[tuple[str | None, str | None]]:
    calls = [c for c in lab.state()["calls"] if f"--namespace=cloud-{cloud.kind}" in c["argv"]]
    assert calls
    return {(c["kubeconfig_mode"], (c.get("ambient") or {}).get("auth")) for c in calls}


# What each cloud's logins leave in the stand-ins' log, in order.
CLUSTER_LOGINS = {
    "eks": ["configure-aws-credentials", "aws"],
    "gke": ["google-github-actions/auth", "get-gke-credentials"],
    "aks": [
        "az",
        "az",
        "azure/login",
        "azure/use-kubelogin",
        "az",
        "kubelogin",
        "azure/aks-set-context",
    ],
}
REGISTRY_LOGINS = {
    "eks": ["configure-aws-credentials", "amazon-ecr-login"],
    "gke": ["google-github-actions/auth", "docker/login-action"],
    "aks": ["az", "az", "azure/login", "az"],
}


def _live(lab: Lab, cloud: Cloud) -> str:
    return str(lab.state()["deployments"][f"cloud-{cloud.kind}/api"]["containers"]["api"])


def _deploy_workflow(cloud: Cloud, lab: Lab, directory: Path) -> dict[str, Any]:
    cd = _render(cloud, lab, directory)[".github/workflows/cd.yml"]
    return {**cd, "jobs": {"build": STUB_BUILD, "deploy-staging": cd["jobs"]["deploy-staging"]}}


@pytest.mark.parametrize("kind", sorted(CLOUDS))
def test_the_deploy_job_logs_in_then_deploys_through_the_ambient_kubeconfig(
    kind: str, lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    cloud = CLOUDS[kind]
    workflow = _deploy_workflow(cloud, lab, tmp_path / "render")
    image = _prepare(lab, cloud)
    stub = ("--env", f"STUB_IMAGE={cloud.registry}/{cloud.repository}")
    run, log = _act(
        tmp_path,
        tools,
        action_checkout,
        workflow,
        github,
        dispatch=False,
        runner=cloud.runner,
        extra_env=stub,
    )
    assert run.job_succeeded("deploy-staging"), run.log
    assert _live(lab, cloud) == image
    # Every kubectl call of the action used the kubeconfig the login wrote, and no other.
    assert _kubectl_auth(lab, cloud) == {(None, cloud.auth)}
    assert [entry["tool"] for entry in log] == CLUSTER_LOGINS[kind]
    (record,) = github.state.repos[REPO].deployments.values()
    assert record.latest_state == "success" and record.environment == "staging"
    if kind == "eks":
        assert log[0]["role"] == ROLE and log[1]["role"] == ROLE
        assert log[1]["kubeconfig"].endswith("/cdgen-kubeconfig")
    if kind == "gke":
        assert log[0]["service_account"] == "cdgen-deploy@acme-staging.iam.gserviceaccount.com"
        assert log[0]["credentials_file"] is True and log[0]["token_format"] == ""
        assert "Success - Main Remove the cluster credentials" in run.log
    if kind == "aks":
        assert log[-1]["cluster"] == "aks-staging"
        # act runs the job only on a runner with its label (-P cloud-private=-self-hosted).
        assert workflow["jobs"]["deploy-staging"]["runs-on"] == "cloud-private"
        # On a self-hosted runner the az login lives in the job's own folder, not ~/.azure.
        assert log[0]["command"] == "login" and log[0]["config"].endswith("/tmp/azure")


@pytest.mark.parametrize("kind", sorted(CLOUDS))
def test_a_rollback_logs_in_to_the_registry_then_to_the_cluster(
    kind: str, lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    cloud = CLOUDS[kind]
    workflow = _render(cloud, lab, tmp_path / "render")[".github/workflows/rollback.yml"]
    image = _prepare(lab, cloud)
    run, log = _act(
        tmp_path, tools, action_checkout, workflow, github, dispatch=True, runner=cloud.runner
    )
    assert run.job_succeeded("resolve"), run.log
    assert run.job_succeeded("rollback-staging"), run.log
    assert _live(lab, cloud) == image
    assert _kubectl_auth(lab, cloud) == {(None, cloud.auth)}
    registry = REGISTRY_LOGINS[kind]
    assert [entry["tool"] for entry in log] == registry + CLUSTER_LOGINS[kind]
    logged_in = log[len(registry) - 1]
    assert cloud.registry in json.dumps(logged_in), logged_in
    (record,) = github.state.repos[REPO].deployments.values()
    assert record.sha == COMMIT and record.latest_state == "success"


def test_docker_hub_is_logged_in_to_with_the_repository_secrets(
    lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    cloud = Cloud(
        "hub",
        "  registry: docker.io\n  repository: acmeinc/api\n"
        "  login: { username-secret: DOCKERHUB_USERNAME, password-secret: DOCKERHUB_TOKEN }\n",
        "",
        "docker.io",
        "acmeinc/api",
        "",
    )
    workflow = _render(cloud, lab, tmp_path / "render")[".github/workflows/rollback.yml"]
    image = _prepare(lab, cloud)
    tags = json.loads(tools.docker_state.read_text(encoding="utf-8"))
    tags["tags"][f"docker.io/acmeinc/api:{COMMIT}"] = DIGEST
    tools.docker_state.write_text(json.dumps(tags), encoding="utf-8")
    kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: hub-t0ken\n"
    secrets = ("DOCKERHUB_USERNAME=acmebot", "DOCKERHUB_TOKEN=dckr_pat_standin", "KUBE_CONFIG")
    run, log = _act(
        tmp_path,
        tools,
        action_checkout,
        workflow,
        github,
        dispatch=True,
        runner="ubuntu-latest",
        secrets=secrets,
        kubeconfig=kubeconfig,
    )
    assert run.job_succeeded("rollback-staging"), run.log
    assert _live(lab, cloud) == image
    (login,) = log
    assert (login["tool"], login["registry"], login["username"]) == (
        "docker/login-action",
        "docker.io",
        "acmebot",
    )
    assert login["password_sha256"] == hashlib.sha256(b"dckr_pat_standin").hexdigest()
    assert "dckr_pat_standin" not in run.log and "hub-t0ken" not in run.log
    # The kubeconfig secret, as before: a private file passed to kubectl, no ambient one.
    assert _kubectl_auth(lab, cloud) == {("0o600", None)}


def test_without_the_role_the_cluster_is_never_reached(
    lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    """The stand-ins are strict: with the role's login step removed, `aws eks
    update-kubeconfig` finds no credentials, the job fails, and nothing changes."""
    cloud = CLOUDS["eks"]
    workflow = _deploy_workflow(cloud, lab, tmp_path / "render")
    steps = workflow["jobs"]["deploy-staging"]["steps"]
    workflow["jobs"]["deploy-staging"]["steps"] = [
        s for s in steps if "configure-aws-credentials" not in s.get("uses", "")
    ]
    _prepare(lab, cloud)
    stub = ("--env", f"STUB_IMAGE={cloud.registry}/{cloud.repository}")
    run, log = _act(
        tmp_path,
        tools,
        action_checkout,
        workflow,
        github,
        dispatch=False,
        runner=cloud.runner,
        extra_env=stub,
    )
    assert run.job_failed("deploy-staging"), run.log
    assert "aws (stand-in): Unable to locate credentials" in run.log
    assert log == [] and _live(lab, cloud) == GOOD
    assert [c for c in lab.state()["calls"] if "--namespace=cloud-eks" in c["argv"]] == []
