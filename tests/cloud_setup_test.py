"""The cloud commands `cdgen init` prints (and the README shows) run as written: each golden
scenario's lines run in bash against recording stand-ins of aws, gcloud, az, gh and kubectl,
and the trust they create admits exactly this repository, in both subject formats, on the
deploy branch (registry) or in one environment (cluster)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.generated import golden_descriptor

from cdgen.descriptor import parse_descriptor
from cdgen.init.cloud_setup import ECR_PUSH, cloud_commands
from cdgen.model import Pipeline, build_pipeline
from cdgen.stamp import Stamp

# Records each call; answers the lookups the commands make with fixed values.
RECORDER = """\
#!{python}
import json, os, sys
tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(os.environ["CALLS"], "a", encoding="utf-8") as log:
    log.write(json.dumps([tool, *args]) + "\\n")
answers = {{
    ("gh", ".owner.id"): "1001", ("gh", ".id"): "2002",
    ("az", "acr"): "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r",
    ("az", "aks"): "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
    ("az", "ad"): "5f0c3b7a-0000-4000-8000-00000000beef",
}}
key = (tool, args[-1] if tool == "gh" else args[0])
if key in answers:
    print(answers[key])
"""
IDS = "acme@1001/api@2002"


def _pipeline(scenario: str) -> Pipeline:
    data = parse_descriptor(golden_descriptor(scenario).encode(), "cdgen.yml").data
    return build_pipeline(data, Stamp(None, None))


def _run(tmp_path: Path, lines: list[str]) -> list[list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("aws", "gcloud", "az", "gh", "kubectl"):
        (bin_dir / tool).write_text(RECORDER.format(python=sys.executable), encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), "HOME": str(tmp_path)}
    script = "\n".join(lines) + "\n"
    command = ["bash", "-euo", "pipefail", "-c", script]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]


def _option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


def _calls(calls: list[list[str]], *prefix: str) -> list[list[str]]:
    return [call for call in calls if call[: len(prefix)] == list(prefix)]


def _trust(call: list[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_option(call, "--assume-role-policy-document"))
    (statement,) = document["Statement"]
    return statement  # type: ignore[no-any-return]


def test_aws_roles_trust_the_branch_or_their_environment_and_push_one_repository(
    tmp_path: Path,
) -> None:
    calls = _run(tmp_path, cloud_commands(_pipeline("ecr-eks"), "acme/api"))
    roles = {
        _option(c, "--role-name"): _trust(c) for c in _calls(calls, "aws", "iam", "create-role")
    }
    contexts = {
        "cdgen-api-push": ("123456789012", "ref:refs/heads/main"),
        "cdgen-api-deploy-staging": ("210987654321", "environment:staging"),
        "cdgen-api": ("345678901234", "environment:production"),
    }
    assert set(roles) == set(contexts)
    for name, (account, context) in contexts.items():
        trust = roles[name]
        assert trust["Principal"]["Federated"] == (
            f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        )
        condition = trust["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        assert condition["token.actions.githubusercontent.com:sub"] == [
            f"repo:acme/api:{context}",
            f"repo:{IDS}:{context}",
        ]
    providers = _calls(calls, "aws", "iam", "create-open-id-connect-provider")
    assert len(providers) == 3  # one per account
    (push,) = [c for c in _calls(calls, "aws", "iam", "put-role-policy") if "cdgen-push" in c]
    statements = json.loads(_option(push, "--policy-document"))["Statement"]
    assert statements[1] == {
        "Effect": "Allow",
        "Action": ECR_PUSH,
        "Resource": "arn:aws:ecr:eu-west-1:123456789012:repository/acme/api",
    }
    entries = _calls(calls, "aws", "eks", "create-access-entry")
    assert [_option(e, "--username") for e in entries] == [
        "cdgen-deploy-staging",
        "cdgen-deploy-production",
    ]
    bindings = _calls(calls, "kubectl", "create", "rolebinding")
    assert [b[-1] for b in bindings] == [
        "--user=cdgen-deploy-staging",
        "--user=cdgen-deploy-production",
    ]
    assert "--path" in _calls(calls, "aws", "iam", "create-role")[2]  # role/deploy/cdgen-api


def test_google_accounts_are_impersonated_by_this_repository_only(tmp_path: Path) -> None:
    calls = _run(tmp_path, cloud_commands(_pipeline("gar-gke"), "acme/api"))
    providers = _calls(
        calls, "gcloud", "iam", "workload-identity-pools", "providers", "create-oidc"
    )
    assert len(providers) == 3  # one pool per project number
    assert {_option(p, "--attribute-condition") for p in providers} == {
        "assertion.repository_id == '2002'"
    }
    members = {
        (c[4], _option(c, "--member"))
        for c in _calls(calls, "gcloud", "iam", "service-accounts", "add-iam-policy-binding")
    }
    pool = (
        "principal://iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/github"
    )
    expected = set()
    for account, number, context in (
        ("cdgen-push@acme-ci", "123456789012", "ref:refs/heads/main"),
        ("cdgen-deploy@acme-staging", "234567890123", "environment:staging"),
        ("cdgen-deploy@acme-prod", "345678901234", "environment:production"),
    ):
        for subject in (f"repo:acme/api:{context}", f"repo:{IDS}:{context}"):
            member = f"{pool.format(number)}/subject/{subject}"
            expected.add((f"{account}.iam.gserviceaccount.com", member))
    assert members == expected
    writer = _calls(calls, "gcloud", "artifacts", "repositories", "add-iam-policy-binding")[0]
    assert writer[4] == "containers" and _option(writer, "--location") == "europe-west1"
    assert _option(writer, "--role") == "roles/artifactregistry.writer"


def test_azure_applications_get_federated_credentials_and_least_roles(tmp_path: Path) -> None:
    calls = _run(tmp_path, cloud_commands(_pipeline("acr-aks"), "acme/api"))
    credentials = [
        (_option(c, "--id"), json.loads(_option(c, "--parameters")))
        for c in _calls(calls, "az", "ad", "app", "federated-credential", "create")
    ]
    subjects = {(client, p["subject"]) for client, p in credentials}
    assert {p["audiences"][0] for _, p in credentials} == {"api://AzureADTokenExchange"}
    assert len({p["name"] for _, p in credentials}) == len(credentials) == 6
    push = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert (push, f"repo:{IDS}:ref:refs/heads/main") in subjects
    assert (
        "9b2c5d1e-3f4a-4b6c-8d7e-0f1a2b3c4d5e",
        "repo:acme/api:environment:production",
    ) in subjects
    roles = [_option(c, "--role") for c in _calls(calls, "az", "role", "assignment", "create")]
    assert roles == ["AcrPush", *["Azure Kubernetes Service Cluster User Role"] * 2]
    assert _calls(calls, "az", "aks", "update")[1][-3:] == [
        "rg-prod(eu)",
        "--attach-acr",
        "acmeprod",
    ]
    users = [b[-1] for b in _calls(calls, "kubectl", "create", "rolebinding")]
    assert users == ["--user=5f0c3b7a-0000-4000-8000-00000000beef"] * 2


@pytest.mark.parametrize("scenario", ["docker-hub", "private-registry"])
def test_stored_passwords_are_repository_secrets_and_pull_secrets(
    scenario: str, tmp_path: Path
) -> None:
    pipeline = _pipeline(scenario)
    calls = _run(tmp_path, cloud_commands(pipeline, "acme/api"))
    login = pipeline.image.login
    secrets = [c for c in calls if c[:3] == ["gh", "secret", "set"]]
    assert [c[3] for c in secrets] == [login.username_secret, login.password_secret]  # type: ignore[union-attr]
    assert all(_option(c, "--repo") == "acme/api" for c in secrets)
    assert len(_calls(calls, "kubectl", "create", "secret", "docker-registry")) == 2
    lookups = _calls(calls, "gh", "api")
    assert bool(lookups) == (scenario == "private-registry")  # its production is on EKS


def test_nothing_to_print_for_ghcr_and_kubeconfig_secrets() -> None:
    assert cloud_commands(_pipeline("article"), "acme/api") == []


def test_an_unknown_repository_is_read_by_gh_from_the_clone(tmp_path: Path) -> None:
    lines = cloud_commands(_pipeline("ecr-eks"), None)
    assert 'REPO="$(gh repo view --json nameWithOwner --jq .nameWithOwner)"' in lines
    calls = _run(tmp_path, lines)
    assert _calls(calls, "gh", "repo", "view")


def test_a_gcr_io_host_is_its_artifact_registry_repository(tmp_path: Path) -> None:
    provider = "projects/1/locations/global/workloadIdentityPools/github/providers/github"
    text = f"""\
version: 1
name: api
image:
  registry: eu.gcr.io
  repository: acme-prod/api
  login:
    gcp: {{ workload-identity-provider: {provider}, service-account: push@acme-prod.iam.gserviceaccount.com }}
environments:
  - {{ name: production, url: https://example.com, kubernetes: {{ namespace: production }} }}
"""
    pipeline = build_pipeline(parse_descriptor(text.encode(), "cdgen.yml").data, Stamp(None, None))
    calls = _run(tmp_path, cloud_commands(pipeline, "acme/api"))
    bindings = _calls(calls, "gcloud", "artifacts", "repositories", "add-iam-policy-binding")
    assert [(b[4], _option(b, "--location"), _option(b, "--role")) for b in bindings] == [
        ("eu.gcr.io", "europe", "roles/artifactregistry.writer"),
        ("eu.gcr.io", "europe", "roles/artifactregistry.reader"),
    ]
