"""What the act runs of the cloud logins share: one descriptor per cloud, the stand-in
tools and actions, the lab's state, and running a rendered workflow under act."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from support.cloud_cli import AKS_SERVER_ID, write_tools
from support.cloud_standins import write_standins
from support.fake_gh import write_fake_gh
from support.fake_gh_attest import attestation
from support.github_api import GitHubApi
from support.sandbox import deployment

from cdgen.generate import Target, render_target

from .conftest import ACTION_REF, ROOT, ActRun, Lab, for_act, init_repo, run_act

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


def make_tools(lab: Lab, base: Path) -> Tools:
    """The stand-in tools and actions, the fake docker and gh, for every act run."""
    bin_dir, kubelogin_dir = write_tools(base / "cli")
    arguments = write_standins(base / "standins")
    docker_state = base / "docker.json"
    docker = bin_dir / "docker"
    docker.write_text(
        f"#!/bin/sh\nFAKE_DOCKER_STATE='{docker_state}' exec '{sys.executable}' "
        f"'{ROOT / 'tests/support/fake_docker.py'}' \"$@\"\n",
        encoding="utf-8",
    )
    docker.chmod(0o755)
    tags = {f"{c.registry}/{c.repository}:{COMMIT}": DIGEST for c in CLOUDS.values()}
    docker_state.write_text(json.dumps({"tags": tags, "require_login": True}), encoding="utf-8")
    gh_bin = write_fake_gh(base / "gh", {DIGEST: [attestation(REPO, COMMIT)]}, sys.executable)
    path = os.pathsep.join(map(str, (bin_dir, gh_bin, lab.bin_dir, os.environ["PATH"])))
    return Tools(path, arguments, kubelogin_dir, docker_state)


def render(cloud: Cloud, lab: Lab, directory: Path) -> dict[str, Any]:
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


def prepare(lab: Lab, cloud: Cloud) -> str:
    image = f"{cloud.registry}/{cloud.repository}@{DIGEST}"

    def change(state: dict[str, Any]) -> None:
        state["deployments"][f"cloud-{cloud.kind}/api"] = deployment()
        state["http"][image] = {}
        state["calls"] = []

    lab.update(change)
    return image


def run_jobs(
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


def kubectl_auth(lab: Lab, cloud: Cloud) -> set[tuple[str | None, str | None]]:
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


def live(lab: Lab, cloud: Cloud) -> str:
    return str(lab.state()["deployments"][f"cloud-{cloud.kind}/api"]["containers"]["api"])


def deploy_workflow(cloud: Cloud, lab: Lab, directory: Path) -> dict[str, Any]:
    cd = render(cloud, lab, directory)[".github/workflows/cd.yml"]
    return {**cd, "jobs": {"build": STUB_BUILD, "deploy-staging": cd["jobs"]["deploy-staging"]}}
