"""The kubectl simulator accepts exactly the engine's syntax and rejects anything else."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.sandbox import GOOD, image

from .conftest import Sandbox


def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "args",
    [
        [
            "get",
            "deployment",
            "api",
            "--output=json",
            "--request-timeout=60s",
            "--namespace=staging",
        ],
        ["get", "deployment/api", "-o", "json", "--namespace=staging"],
        ["get", "deployment/api", "--output=yaml", "--request-timeout=60s", "--namespace=staging"],
        ["set", "image", "deployment/api", "api=x:1", "--namespace=staging"],
        ["set", "image", "deployment/api", "api=x:1", "--request-timeout=60s"],
        [
            "set",
            "image",
            "deployment/api",
            "api=x:1",
            "--request-timeout=60s",
            "--namespace",
            "staging",
        ],
        ["set", "env", "deployment/api", "A=1", "--request-timeout=60s", "--namespace=staging"],
        ["rollout", "status", "deployment/api", "--timeout=5m", "--namespace=staging"],
        ["rollout", "restart", "deployment/api", "--namespace=staging"],
        [
            "rollout",
            "undo",
            "deployment/api",
            "--request-timeout=60s",
            "--namespace=staging",
            "--all",
        ],
        ["delete", "deployment/api", "--namespace=staging"],
        ["apply", "-f", "x.yaml"],
        ["config", "view", "--output=json"],  # without --raw the secrets are redacted
        ["config", "view", "--raw", "--output=yaml"],
        ["config", "view", "--raw=true", "--output=json"],
        ["config", "view", "--raw", "-o", "json"],
        ["config", "get-contexts"],
        ["auth", "can-i", "patch", "deployments.apps", "--namespace=staging"],
        ["auth", "can-i", "--list", "--namespace=staging", "--request-timeout=60s"],
        [
            "auth",
            "can-i",
            "get",
            "deployments.apps/api",
            "--namespace=staging",
            "--request-timeout=60s",
        ],
        [],
    ],
)
def test_rejects_syntax_the_engine_does_not_use(sandbox: Sandbox, args: list[str]) -> None:
    done = kubectl(*args)
    assert done.returncode == 2, done.stdout
    assert sandbox.image() == GOOD


def test_set_image_then_undo_to_revision(sandbox: Sandbox) -> None:
    common = ["--request-timeout=60s", "--namespace=staging"]
    assert kubectl("set", "image", "deployment/api", f"api={image('v2')}", *common).returncode == 0
    assert sandbox.state()["deployments"]["staging/api"]["revision"] == 2
    done = kubectl("rollout", "undo", "deployment/api", "--to-revision=1", *common)
    assert done.stdout == "deployment.apps/api rolled back\n"
    deployment = sandbox.state()["deployments"]["staging/api"]
    assert (deployment["revision"], deployment["containers"]["api"]) == (3, GOOD)
    assert [entry["revision"] for entry in deployment["history"]] == [2, 3]
    assert kubectl("rollout", "undo", "deployment/api", "--to-revision=1", *common).returncode == 1


def test_never_ready_image_times_out(sandbox: Sandbox) -> None:
    common = ["--request-timeout=60s", "--namespace=staging"]
    kubectl("set", "image", "deployment/api", f"api={image('never-ready')}", *common)
    done = kubectl("rollout", "status", "deployment/api", "--timeout=0s", "--namespace=staging")
    assert done.returncode == 1
    assert "timed out waiting for the condition" in done.stderr
    assert sandbox.state()["deployments"]["staging/api"]["serving"]["api"] == GOOD


COMMON = ["--request-timeout=60s", "--namespace=staging"]


def test_config_view_prints_any_form_as_kubectl_json(sandbox: Sandbox, tmp_path: Path) -> None:
    # The shape kubectl 1.32 prints: users sorted by name, absent lists as null.
    config = tmp_path / "config"
    config.write_text(
        '{"apiVersion": "v1", "kind": "Config", "users": [{"name": "b", "user": {"token": "t"}}, '
        '{"name": "a", "user": {"password": "p"}}]}',
        encoding="utf-8",
    )
    done = kubectl("config", "view", "--raw", "--output=json", f"--kubeconfig={config}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": None,
        "users": [{"name": "a", "user": {"password": "p"}}, {"name": "b", "user": {"token": "t"}}],
        "contexts": None,
        "current-context": "",
    }
    config.write_text("users: [\n", encoding="utf-8")
    done = kubectl("config", "view", "--raw", "--output=json", f"--kubeconfig={config}")
    assert done.returncode == 1
    assert done.stderr.startswith(f'error: error loading config file "{config}": yaml: ')


def test_auth_can_i_answers_from_the_rbac_table(sandbox: Sandbox) -> None:
    can_i = ["auth", "can-i", "patch", "deployments.apps", *COMMON]
    assert kubectl(*can_i).stdout == "yes\n"
    sandbox_state = sandbox.state()
    sandbox_state["rbac"] = {"deployments.apps": ["get"]}
    sandbox.save(sandbox_state)
    done = kubectl(*can_i)
    assert (done.returncode, done.stdout) == (1, "no\n")
    done = kubectl("set", "image", "deployment/api", f"api={image('v2')}", *COMMON)
    assert done.returncode == 1
    assert 'cannot patch resource "deployments" in API group "apps"' in done.stderr
    assert sandbox.image() == GOOD


def test_a_paused_deployment_refuses_undo_and_never_rolls_out(sandbox: Sandbox) -> None:
    state = sandbox.state()
    state["deployments"]["staging/api"]["paused"] = True
    sandbox.save(state)
    assert kubectl("set", "image", "deployment/api", f"api={image('v2')}", *COMMON).returncode == 0
    status = kubectl("rollout", "status", "deployment/api", "--timeout=0s", "--namespace=staging")
    assert status.returncode == 1
    done = kubectl("rollout", "undo", "deployment/api", "--to-revision=1", *COMMON)
    assert done.returncode == 1
    assert "you cannot rollback a paused deployment" in done.stderr


def test_history_beyond_the_limit_is_gone(sandbox: Sandbox) -> None:
    state = sandbox.state()
    state["deployments"]["staging/api"]["revisionHistoryLimit"] = 0
    sandbox.save(state)
    assert kubectl("set", "image", "deployment/api", f"api={image('v2')}", *COMMON).returncode == 0
    done = kubectl("rollout", "undo", "deployment/api", "--to-revision=1", *COMMON)
    assert done.returncode == 1
    assert "unable to find specified revision 1" in done.stderr


def test_set_image_that_times_out_after_the_change(sandbox: Sandbox) -> None:
    state = sandbox.state()
    state["set_image_times_out"] = True
    sandbox.save(state)
    done = kubectl("set", "image", "deployment/api", f"api={image('v2')}", *COMMON)
    assert done.returncode == 1
    assert "may still be processing the request" in done.stderr
    assert sandbox.image() == image("v2")


def test_get_shows_what_the_preflight_reads(sandbox: Sandbox) -> None:
    done = kubectl("get", "deployment/api", "--output=json", *COMMON)
    spec = json.loads(done.stdout)["spec"]
    assert spec["replicas"] == 2
    assert spec["revisionHistoryLimit"] == 10
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert "paused" not in spec
    assert (
        spec["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health"
    )
