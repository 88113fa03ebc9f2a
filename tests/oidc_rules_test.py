"""The rules of cloud logins, checked on every golden scenario's output: `id-token: write`
only on the jobs that log in over OIDC (or sign an attestation), each with its reason; no
long-lived cloud key anywhere a login is federated; a cluster login before the action, which
then takes no kubeconfig; self-hosted runners only where an environment names one; every
identifier reaching the workflows as the text written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cloud_validate_test import BASE, IMAGE
from pipeline_rules_test import SCENARIOS, _golden, _own_action
from validate_test import problems

# The actions that exchange the job's OIDC token for cloud credentials.
OIDC_LOGINS = (
    "aws-actions/configure-aws-credentials@",
    "google-github-actions/auth@",
    "azure/login@",
)
CLUSTER_LOGINS = (*OIDC_LOGINS, "google-github-actions/get-gke-credentials@")
# Inputs through which these actions would take a stored key instead.
KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token", "creds"}
KEY_INPUTS |= {"credentials_json", "web-identity-token-file"}
WORKFLOWS = (
    ".github/workflows/cd.yml",
    ".github/workflows/rollback.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/cdgen.yml",
    ".github/workflows/metrics.yml",
)


def _uses(step: dict[str, Any], prefixes: tuple[str, ...]) -> bool:
    return str(step.get("uses", "")).startswith(prefixes)


def _jobs(files: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(rel, job_id, job) for rel in WORKFLOWS for job_id, job in files[rel]["jobs"].items()]


def _secrets(value: Any) -> set[str]:
    """Every `secrets.NAME` a job's text references."""
    return set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", str(value)))


def _raw_golden(name: str) -> dict[str, str]:
    from pipeline_rules_test import YAML_SAFE
    from support.generated import GOLDENS

    files: dict[str, str] = YAML_SAFE.load((GOLDENS / f"{name}.yml").read_text())["files"]
    return files


@pytest.mark.parametrize("name", SCENARIOS)
def test_id_token_only_where_a_login_or_an_attestation_needs_it(name: str) -> None:
    descriptor, files = _golden(name)
    # A static site (site:) has no image to attest.
    attest = "site" not in descriptor and descriptor.get("image", {}).get("attest", True)
    for rel, job_id, job in _jobs(files):
        logs_in = any(_uses(step, OIDC_LOGINS) for step in job.get("steps", []))
        signs = any("attest-build-provenance@" in step.get("uses", "") for step in job["steps"])
        assert signs == (attest and rel.endswith("cd.yml") and job_id == "build")
        wants = job["permissions"].get("id-token")
        assert (wants == "write") == (logs_in or signs), (rel, job_id)
        assert wants in (None, "write"), (rel, job_id)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_id_token_grant_says_why(name: str) -> None:
    for rel, text in _raw_golden(name).items():
        for line in text.splitlines():
            if line.strip().startswith("id-token:"):
                reason = line.split("#", 1)[1].strip() if "#" in line else ""
                assert len(reason) > 10, f"{rel}: {line.strip()}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_long_lived_cloud_key_where_a_login_is_federated(name: str) -> None:
    """A job that logs in over OIDC references no secret but GitHub's own token, and no
    login step is given a stored key. Where the registry's login is federated, no workflow
    names a registry password at all."""
    descriptor, files = _golden(name)
    login = descriptor.get("image", {}).get("login", {})
    federated = bool({"aws", "gcp", "azure"} & set(login))
    for rel, job_id, job in _jobs(files):
        steps = job.get("steps", [])
        for step in steps:
            if _uses(step, OIDC_LOGINS):
                assert not KEY_INPUTS & set(step.get("with", {})), (rel, job_id)
        if any(_uses(step, OIDC_LOGINS) for step in steps):
            assert _secrets(job) <= {"GITHUB_TOKEN"}, (rel, job_id, _secrets(job))
        if federated:
            assert _secrets(job) <= {"GITHUB_TOKEN"} | _kubeconfig_secrets(descriptor)


def _kubeconfig_secrets(descriptor: dict[str, Any]) -> set[str]:
    return {
        env["kubernetes"].get("kubeconfig-secret", "KUBE_CONFIG")
        for env in descriptor["environments"]
        if not {"eks", "gke", "aks"} & set(env["kubernetes"])
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_cloud_cluster_is_logged_in_to_before_the_action_which_takes_no_kubeconfig(
    name: str,
) -> None:
    descriptor, files = _golden(name)
    site = "site" in descriptor  # a static site: no cluster, no kubeconfig
    for env in descriptor["environments"]:
        cloud = {"eks", "gke", "aks"} & set(env.get("kubernetes", {}))
        deploy = files[".github/workflows/cd.yml"]["jobs"][f"deploy-{env['name']}"]
        _check_cluster_job(deploy, bool(cloud), ("cd.yml", env["name"]), site)
        rollback = files[".github/workflows/rollback.yml"]["jobs"].get(f"rollback-{env['name']}")
        assert rollback is not None or site  # a site rolls back its production only
        if rollback is not None:
            _check_cluster_job(rollback, bool(cloud), ("rollback.yml", env["name"]), site)


def _check_cluster_job(
    job: dict[str, Any], cloud: bool, where: tuple[str, str], site: bool = False
) -> None:
    steps = job["steps"]
    logins = [i for i, step in enumerate(steps) if _uses(step, CLUSTER_LOGINS)]
    actions = [i for i, step in enumerate(steps) if _own_action(step)]
    assert bool(logins) == cloud, where
    if cloud:
        assert max(logins) < min(actions), where  # the kubeconfig exists before the deploy
    for index in actions:
        with_kubeconfig = "kubeconfig" in steps[index]["with"]
        mode = steps[index]["with"]["mode"]
        assert with_kubeconfig == (not cloud and not site and mode != "record"), (where, index)
    if cloud:
        assert _secrets(job) <= {"GITHUB_TOKEN"}, where  # no kubeconfig secret, no key


@pytest.mark.parametrize("name", SCENARIOS)
def test_only_an_environments_own_jobs_run_on_its_runner(name: str) -> None:
    descriptor, files = _golden(name)
    runners = {
        env["name"]: env.get("runs-on", "ubuntu-latest") for env in descriptor["environments"]
    }
    for rel, job_id, job in _jobs(files):
        environment = job.get("environment", {}).get("name")
        assert job["runs-on"] == runners.get(environment, "ubuntu-latest"), (rel, job_id)
    labels = sorted({label for label in runners.values() if label != "ubuntu-latest"})
    config = files.get(".github/actionlint.yaml")
    if labels:
        assert config == {"self-hosted-runner": {"labels": labels}}
    else:
        assert config is None


@pytest.mark.parametrize("name", SCENARIOS)
def test_packages_permissions_only_for_ghcr(name: str) -> None:
    """GitHub's package permissions reach GHCR only: no job of another registry asks for them."""
    descriptor, files = _golden(name)
    # A static site (site:) pushes no image.
    registry = descriptor.get("image", {}).get("registry", "ghcr.io")
    on_github = "site" not in descriptor and registry == "ghcr.io"
    grants = {
        (rel, job_id): job["permissions"].get("packages")
        for rel, job_id, job in _jobs(files)
        if job["permissions"].get("packages")
    }
    if on_github:
        assert grants[(".github/workflows/cd.yml", "build")] == "write"
        assert set(grants.values()) <= {"read", "write"}
    else:
        assert grants == {}


def test_identifiers_reach_the_workflows_as_the_text_written(tmp_path: Path) -> None:
    """Values the schema takes that YAML would read as a number, a boolean or null are
    written quoted: the workflow gets the very text of the descriptor."""
    from ruamel.yaml import YAML
    from support.generated import render_descriptor

    text = (
        BASE.replace("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "'1.50'")
        .replace(IMAGE.split("  login:")[1], " { username-secret: U, password-secret: P }\n")
        .replace("runs-on: deploy-eu", "runs-on: 'true'")
        .replace("eks: { cluster: staging,", "eks: { cluster: '1e5',")
        .replace("cluster: aks-prod", "cluster: 'null'")
    )
    assert problems(text) == []
    files = render_descriptor(tmp_path, text)
    cd = YAML(typ="safe").load(files[".github/workflows/cd.yml"])
    build = {step.get("id", step["name"]): step for step in cd["jobs"]["build"]["steps"]}
    assert build["name"]["env"]["REGISTRY"] == "1.50"
    assert build["Log in to 1.50"]["with"]["registry"] == "1.50"
    staging = cd["jobs"]["deploy-staging"]
    assert staging["runs-on"] == "true"
    kubeconfig = next(s for s in staging["steps"] if s["name"].startswith("Write the kubeconfig"))
    assert kubeconfig["env"]["CLUSTER"] == "1e5"
    production = cd["jobs"]["deploy-production"]["steps"]
    context = next(s for s in production if "aks-set-context" in s.get("uses", ""))
    assert context["with"]["cluster-name"] == "null"
    labels = YAML(typ="safe").load(files[".github/actionlint.yaml"])["self-hosted-runner"]
    assert labels == {"labels": ["true"]}
