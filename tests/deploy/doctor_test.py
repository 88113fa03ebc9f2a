"""`cdgen doctor`: the engine's preflight and RBAC table against each environment of
cdgen.yml, through the local kubeconfig, with a fix for each problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.sandbox import deployment

from cdgen.cli import main
from cdgen.deploy.rbac import permissions

from .conftest import Sandbox

DESCRIPTOR = """\
version: 1
name: api
environments:
  - name: staging
    url: https://staging.example.com
    kubernetes: { namespace: staging }
  - name: production
    url: https://example.com
    kubernetes: { namespace: production, container: web }
"""


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Path:
    path = tmp_path / "cdgen.yml"
    path.write_text(DESCRIPTOR, encoding="utf-8")
    state = sandbox.state()
    state["deployments"]["production/api"] = deployment(container="web")
    sandbox.save(state)
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", "--config", str(config), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_ready_cluster_passes(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(config, capsys)
    assert code == 0, out
    assert "staging: deployment/api in namespace staging, container api" in out
    assert "production: deployment/api in namespace production, container web" in out
    assert "ok    container web runs ghcr.io/acme/api:v1 (revision 1)" in out
    assert out.count("ok    every permission the deploy needs") == 2
    assert out.rstrip().endswith("cdgen doctor: 0 problem(s), 0 warning(s)")
    can_i = [argv for argv in sandbox.calls() if argv[:2] == ["auth", "can-i"]]
    asked = {(argv[2], argv[3]) for argv in can_i}
    assert asked == {(verb, resource) for verb, resource, _ in permissions()}
    assert sandbox.mutating_calls() == []


def test_problems_come_with_their_fix(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    state = sandbox.state()
    state["deployments"]["staging/api"] = deployment(paused=True, probes={})
    state["rbac"] = {"deployments.apps": ["get", "list", "watch"], "replicasets.apps": ["list"]}
    sandbox.save(state)
    code, out = doctor(config, capsys, "--environment", "staging")
    assert code == 1, out
    assert "production" not in out
    assert "  FAIL  the Deployment is paused" in out
    assert "        fix: kubectl rollout resume deployment/api --namespace=staging" in out
    assert "  warn  container api has no readiness probe" in out
    assert "  FAIL  not allowed to patch deployments.apps in namespace staging" in out
    assert "    kind: Role" in out and '    verbs: ["get", "list", "watch", "patch"]' in out
    assert out.rstrip().endswith("cdgen doctor: 2 problem(s), 1 warning(s)")


def test_a_missing_deployment_is_a_problem(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    state = sandbox.state()
    del state["deployments"]["production/api"]
    sandbox.save(state)
    code, out = doctor(config, capsys, "-e", "production")
    assert code == 1
    assert (
        "FAIL  cannot read deployment/api in namespace production (Error from server (NotFound)"
        in out
    )
    assert "fix: check the namespace, deployment and container" in out


def test_the_kubeconfig_option_reaches_kubectl(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    code, out = doctor(config, capsys, "--kubeconfig", str(kubeconfig), "-e", "staging")
    assert code == 0, out
    assert all(f"--kubeconfig={kubeconfig}" in argv for argv in sandbox.calls())


def test_an_unknown_environment_is_a_usage_error(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(config, capsys, "--environment", "qa")
    assert code == 2
    assert "has no environment 'qa' (it has: staging, production)" in out
    assert sandbox.calls() == []


def test_an_invalid_descriptor_is_reported_as_such(
    tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cdgen.yml"
    config.write_text("version: 1\nname: Api\n", encoding="utf-8")
    code, out = doctor(config, capsys)
    assert code == 1
    assert "name: must be a DNS-1123 label" in out
    assert sandbox.calls() == []
