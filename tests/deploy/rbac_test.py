"""One table of the permissions the engine needs: enough for every command it runs, each
entry needed by one of them (in the simulator, which grants what kubectl's source asks
for), and the Role manifest rendered from it."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML
from support.sandbox import GOOD, image

from cdgen.deploy.rbac import permissions, role_manifest, rules_for

from .conftest import Deploy, Sandbox


def granted(without: tuple[str, str] | None = None) -> dict[str, list[str]]:
    rbac: dict[str, list[str]] = {}
    for verb, resource, _why in permissions():
        if (verb, resource) != without:
            rbac.setdefault(resource, []).append(verb)
    return rbac


def test_the_role_manifest_grants_exactly_the_table() -> None:
    manifest: dict[str, Any] = YAML(typ="safe").load(role_manifest("production"))
    assert manifest["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert manifest["kind"] == "Role"
    assert manifest["metadata"] == {"name": "cdgen-deploy", "namespace": "production"}
    assert manifest["rules"] == [
        {"apiGroups": [rule.api_group], "resources": [rule.resource], "verbs": list(rule.verbs)}
        for rule in rules_for()  # a deploy's own; a canary's are added where it is used
    ]
    assert "# rollout undo finds the ReplicaSet of a revision" in role_manifest("x")


def test_the_table_is_enough_for_a_deploy_and_its_rollback(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    sandbox.update(rbac=granted())
    assert deploy("--image", image("v2")).outputs["result"] == "deployed"
    result = deploy("--image", image("broken"))  # get, set image, status, undo, status
    assert result.outputs["result"] == "rolled-back", result.log
    assert sandbox.image() == image("v2")


@pytest.mark.parametrize(
    "missing", [(verb, resource) for verb, resource, _ in permissions()], ids="-".join
)
def test_every_permission_in_the_table_is_needed(
    deploy: Deploy, sandbox: Sandbox, missing: tuple[str, str]
) -> None:
    sandbox.update(rbac=granted(without=missing))
    result = deploy("--image", image("broken"))
    assert result.outputs["result"] == "failed"
    verb, resource = missing
    plural, group = resource.split(".")
    forbidden = f'cannot {verb} resource "{plural}" in API group "{group}"'
    assert forbidden in result.log
    assert sandbox.image() in (GOOD, image("broken"))


def test_without_patch_the_deploy_stops_at_the_lock_with_nothing_changed(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    """The deploy lock is written before anything else: a kubeconfig that may read but not
    patch the Deployment now stops there, before set image."""
    sandbox.update(rbac=granted(without=("patch", "deployments.apps")))
    result = deploy("--image", image("v2"))
    assert (result.code, result.outputs["result"]) == (1, "failed")
    assert sandbox.verbs() == ["get", "annotate", "get"]  # the write refused; nothing to free
    assert "| Take the deploy lock | " in result.summary
    assert "nothing was changed" in result.log
    assert sandbox.image() == GOOD and sandbox.lock() is None
