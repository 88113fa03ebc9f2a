"""The preflight in a deploy: before anything changes, warnings are reported and the deploy
goes on; a Deployment that cannot be undone or is paused stops it with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from support.sandbox import GOOD, deployment, image

from .conftest import NAMESPACE, Deploy, Sandbox, workload


@pytest.mark.parametrize(
    ("changes", "message", "fix"),
    [
        ({"paused": True}, "the Deployment is paused", "kubectl rollout resume deployment/api"),
        ({"revisionHistoryLimit": 1}, "revisionHistoryLimit is 1", "revisionHistoryLimit"),
    ],
    ids=["paused", "history"],
)
def test_a_failed_preflight_changes_nothing(
    deploy: Deploy, sandbox: Sandbox, changes: dict[str, Any], message: str, fix: str
) -> None:
    sandbox.update(deployments={f"{NAMESPACE}/api": deployment(**changes)})
    before = workload(sandbox.deployment())
    result = deploy("--image", image("v2"))
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert sandbox.mutating_calls() == []
    assert workload(sandbox.deployment()) == before  # the deploy lock taken and freed
    assert f"::error title=Preflight failed::{message}" in result.log
    assert "### Preflight" in result.summary
    preflight = result.summary.split("### Preflight")[1].split("###")[0]
    assert f"| ❌ | {message}" in preflight
    assert fix in preflight
    assert f"| Reason | preflight: {message}" in result.summary


def test_warnings_are_reported_and_the_deploy_goes_on(deploy: Deploy, sandbox: Sandbox) -> None:
    # The Kubernetes defaults with four replicas, and no readiness probe.
    default = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    sandbox.update(
        deployments={f"{NAMESPACE}/api": deployment(replicas=4, strategy=default, probes={})}
    )
    result = deploy("--image", image("v2"))
    assert result.code == 0, result.log
    # GitHub decodes %25 back to %.
    assert "::warning title=Preflight::maxUnavailable 25%25 lets 1 of 4 pods go down" in result.log
    assert "::warning title=Preflight::container api has no readiness probe" in result.log
    assert result.summary.count("| ⚠️ |") == 2
    assert "| Preflight | " in result.summary and "✅ 2 warning(s)" in result.summary
