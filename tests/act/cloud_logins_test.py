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
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import GOOD

from .cloud_lab import (
    CLOUDS,
    CLUSTER_LOGINS,
    COMMIT,
    DIGEST,
    REGISTRY_LOGINS,
    REPO,
    ROLE,
    TOKEN,
    Cloud,
    Tools,
    deploy_workflow,
    kubectl_auth,
    live,
    make_tools,
    prepare,
    render,
    run_jobs,
)
from .conftest import Lab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tools(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Tools:
    return make_tools(lab, tmp_path_factory.mktemp("cloud-tools"))


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[TOKEN]) as api:
        api.state.add_commit(REPO, "2026-01-01T00:00:00Z", sha=COMMIT, branch="main")
        yield api


@pytest.mark.parametrize("kind", sorted(CLOUDS))
def test_the_deploy_job_logs_in_then_deploys_through_the_ambient_kubeconfig(
    kind: str, lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    cloud = CLOUDS[kind]
    workflow = deploy_workflow(cloud, lab, tmp_path / "render")
    image = prepare(lab, cloud)
    stub = ("--env", f"STUB_IMAGE={cloud.registry}/{cloud.repository}")
    run, log = run_jobs(
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
    assert live(lab, cloud) == image
    # Every kubectl call of the action used the kubeconfig the login wrote, and no other.
    assert kubectl_auth(lab, cloud) == {(None, cloud.auth)}
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
    workflow = render(cloud, lab, tmp_path / "render")[".github/workflows/rollback.yml"]
    image = prepare(lab, cloud)
    run, log = run_jobs(
        tmp_path, tools, action_checkout, workflow, github, dispatch=True, runner=cloud.runner
    )
    assert run.job_succeeded("resolve"), run.log
    assert run.job_succeeded("rollback-staging"), run.log
    assert live(lab, cloud) == image
    assert kubectl_auth(lab, cloud) == {(None, cloud.auth)}
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
    workflow = render(cloud, lab, tmp_path / "render")[".github/workflows/rollback.yml"]
    image = prepare(lab, cloud)
    tags = json.loads(tools.docker_state.read_text(encoding="utf-8"))
    tags["tags"][f"docker.io/acmeinc/api:{COMMIT}"] = DIGEST
    tools.docker_state.write_text(json.dumps(tags), encoding="utf-8")
    kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: hub-t0ken\n"
    secrets = ("DOCKERHUB_USERNAME=acmebot", "DOCKERHUB_TOKEN=dckr_pat_standin", "KUBE_CONFIG")
    run, log = run_jobs(
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
    assert live(lab, cloud) == image
    (login,) = log
    assert (login["tool"], login["registry"], login["username"]) == (
        "docker/login-action",
        "docker.io",
        "acmebot",
    )
    assert login["password_sha256"] == hashlib.sha256(b"dckr_pat_standin").hexdigest()
    assert "dckr_pat_standin" not in run.log and "hub-t0ken" not in run.log
    # The kubeconfig secret, as before: a private file passed to kubectl, no ambient one.
    assert kubectl_auth(lab, cloud) == {("0o600", None)}


def test_without_the_role_the_cluster_is_never_reached(
    lab: Lab, tools: Tools, action_checkout: Path, tmp_path: Path, github: GitHubApi
) -> None:
    """The stand-ins are strict: with the role's login step removed, `aws eks
    update-kubeconfig` finds no credentials, the job fails, and nothing changes."""
    cloud = CLOUDS["eks"]
    workflow = deploy_workflow(cloud, lab, tmp_path / "render")
    steps = workflow["jobs"]["deploy-staging"]["steps"]
    workflow["jobs"]["deploy-staging"]["steps"] = [
        s for s in steps if "configure-aws-credentials" not in s.get("uses", "")
    ]
    prepare(lab, cloud)
    stub = ("--env", f"STUB_IMAGE={cloud.registry}/{cloud.repository}")
    run, log = run_jobs(
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
    assert log == [] and live(lab, cloud) == GOOD
    assert [c for c in lab.state()["calls"] if "--namespace=cloud-eks" in c["argv"]] == []
