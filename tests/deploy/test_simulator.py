"""The kubectl simulator accepts exactly the engine's syntax and rejects anything else."""

from __future__ import annotations

import subprocess

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
