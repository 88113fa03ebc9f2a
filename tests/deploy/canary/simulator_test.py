"""The simulator's canary commands: exactly the engine's syntax, and the API server's checks
of what they change; anything else is refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import NAMESPACE, Sandbox
from .gateway_test import gateway_lab

T = "--request-timeout=60s"
N = f"--namespace={NAMESPACE}"
ROUTE = "httproutes.gateway.networking.k8s.io/sim-route"


def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)


def manifest(tmp_path: Path, name: str = "c", **spec: Any) -> str:
    document = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"track": "canary"}},
            "template": {
                "metadata": {"labels": {"app": "x", "track": "canary"}},
                "spec": {"containers": [{"name": "x", "image": "ghcr.io/acme/api:v2"}]},
            },
            **spec,
        },
    }
    path = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return f"--filename={path}"


@pytest.mark.parametrize(
    "args",
    [
        ["scale", "deployment/api", N, T],
        ["scale", "deployment/api", "--replicas", "2", N, T],
        ["scale", "deployments/api", "--replicas=2", N, T],
        ["delete", "deployment/api", N, T],
        ["delete", "deployment/api", "--wait=true", N, T],
        ["delete", "pod/api", "--wait=false", N, T],
        ["delete", "--wait=false", N, T],
        ["patch", ROUTE, "--type=merge", "--patch={}", N, T],
        ["patch", ROUTE, "-p", "[]", "--type=json", N, T],
        ["patch", "deployment/api", "--type=json", "--patch=[]", N, T],
        ["patch", ROUTE, "--type=json", '--patch=[{"op":"add","path":"/x","value":1}]', N, T],
        ["apply", "-f", "x.json", N, T],
        ["apply", "deployment/api", "--filename=x", N, T],
        ["get", "pod/api", "--output=json", N, T],
        ["get", "httproute/sim-route", "--output=json", N, T],
        ["auth", "can-i", "patch", "deployments/scale", N, T],
    ],
    ids=lambda args: " ".join(args[:3]),
)
def test_other_syntax_is_refused(sandbox: Sandbox, args: list[str]) -> None:
    gateway_lab(sandbox, "sim")
    before = sandbox.state()
    done = kubectl(*args)
    assert done.returncode == 2, done.stderr
    after = sandbox.state()
    assert {k: v for k, v in after.items() if k != "calls"} == {
        k: v for k, v in before.items() if k != "calls"
    }


def test_apply_checks_what_the_api_server_checks(sandbox: Sandbox, tmp_path: Path) -> None:
    mismatched = manifest(tmp_path, selector={"matchLabels": {"track": "other"}})
    done = kubectl("apply", mismatched, N, T)
    assert done.returncode == 1 and "`selector` does not match template `labels`" in done.stderr
    assert kubectl("apply", manifest(tmp_path), N, T).stdout == "deployment.apps/c created\n"
    assert kubectl("apply", manifest(tmp_path), N, T).stdout == "deployment.apps/c unchanged\n"
    changed = manifest(
        tmp_path,
        selector={"matchLabels": {"app": "x"}},
    )
    done = kubectl("apply", changed, N, T)
    assert done.returncode == 1 and "field is immutable" in done.stderr
    elsewhere = kubectl("apply", manifest(tmp_path), "--namespace=production", T)
    assert elsewhere.returncode == 1 and "does not match the namespace" in elsewhere.stderr
    long_label = manifest(tmp_path, "d", template={
        "metadata": {"labels": {"track": "canary", "app": "a" * 64}},
        "spec": {"containers": [{"name": "x", "image": "i:1"}]},
    })  # fmt: skip
    done = kubectl("apply", long_label, N, T)
    assert done.returncode == 1 and "not a label value" in done.stderr


def test_scale_delete_and_route_patches(sandbox: Sandbox, tmp_path: Path) -> None:
    gateway_lab(sandbox, "sim")
    kubectl("apply", manifest(tmp_path), N, T)
    assert kubectl("scale", "deployment/c", "--replicas=3", N, T).returncode == 0
    assert sandbox.state()["deployments"][f"{NAMESPACE}/c"]["replicas"] == 3
    wrong = [{"op": "test", "path": "/spec/rules/0/backendRefs", "value": []}]
    wrong.append({"op": "replace", "path": "/spec/rules/0/backendRefs", "value": []})
    done = kubectl("patch", ROUTE, "--type=json", f"--patch={json.dumps(wrong)}", N, T)
    assert done.returncode == 1 and "test failed" in done.stderr
    rules = sandbox.state()["httproutes"][f"{NAMESPACE}/sim-route"]["spec"]["rules"]
    assert [ref["name"] for ref in rules[0]["backendRefs"]] == ["sim"]  # unchanged
    gone = kubectl("delete", "deployment/c", "service/nothing", "--wait=false", N, T)
    assert gone.returncode == 1 and 'services "nothing" not found' in gone.stderr
    quiet = kubectl(
        "delete", "deployment/c", "service/nothing", "--ignore-not-found", "--wait=false", N, T
    )
    assert quiet.returncode == 0 and f"{NAMESPACE}/c" not in sandbox.state()["deployments"]


def test_route_patches_get_the_crds_defaults(sandbox: Sandbox) -> None:
    gateway_lab(sandbox, "sim")
    refs = [
        {"name": "sim", "port": 80, "weight": 90},
        {"name": "sim-canary", "port": 80, "weight": 10},
    ]
    ops = [{"op": "replace", "path": "/spec/rules/0/backendRefs", "value": refs}]
    done = kubectl("patch", ROUTE, "--type=json", f"--patch={json.dumps(ops)}", N, T)
    assert done.stdout == "httproute.gateway.networking.k8s.io/sim-route patched\n"
    stored = sandbox.state()["httproutes"][f"{NAMESPACE}/sim-route"]["spec"]["rules"][0]
    assert stored["backendRefs"][1] == {
        "group": "",
        "kind": "Service",
        "name": "sim-canary",
        "port": 80,
        "weight": 10,
    }
