"""Gateway traffic: a canary Service, and the HTTPRoute's ``backendRefs[].weight`` patched
step by step, then restored; on abort the weights come back before the canary goes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from support.metrics_exporter import Traffic
from support.prometheus_server import Prometheus
from support.sandbox import GOOD, image

from ..conftest import NAMESPACE, Sandbox
from .conftest import CanaryDeploy, Shape, add_stable, analysis, healthy

NEW = image("v2")
ROUTES = "httproutes.gateway.networking.k8s.io"


def backend(name: str, port: int) -> dict[str, Any]:
    """A backendRef as the API server returns it: the CRD's defaults filled in."""
    return {"group": "", "kind": "Service", "name": name, "port": port, "weight": 1}


def route(name: str) -> dict[str, Any]:
    """An HTTPRoute: rule 0 to the stable Service, rule 1 to another one (left alone)."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": f"{name}-route", "namespace": NAMESPACE, "generation": 1},
        "spec": {
            "parentRefs": [{"name": "public"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [backend(name, 80)],
                },
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/docs"}}],
                    "backendRefs": [backend("docs", 8080)],
                },
            ],
        },
    }


def service(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "selector": {"app": app},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "clusterIP": "10.0.0.10",
            "type": "ClusterIP",
        },
    }


def gateway_lab(sandbox: Sandbox, name: str) -> dict[str, Any]:
    add_stable(sandbox, name, replicas=4)
    state = sandbox.state()
    state["services"] = {
        f"{NAMESPACE}/{name}": service(name, name),
        f"{NAMESPACE}/docs": service("docs", "docs"),
    }
    original = route(name)
    state["httproutes"] = {f"{NAMESPACE}/{name}-route": original}
    sandbox.save(state)
    return original


def weights(sandbox: Sandbox, name: str) -> list[list[tuple[str, int | None]]]:
    """The backends of rule 0 after each patch of the route, in order."""
    seen = []
    for argv in sandbox.calls():
        if argv[0] == "patch" and argv[1] == f"{ROUTES}/{name}-route":
            ops = json.loads(argv[3].removeprefix("--patch="))
            (replace,) = [op for op in ops if op["op"] == "replace"]
            assert replace["path"] == "/spec/rules/0/backendRefs"
            seen.append([(ref["name"], ref.get("weight")) for ref in replace["value"]])
    return seen


def test_the_weights_are_applied_in_order_and_restored(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    original = gateway_lab(sandbox, "gw")
    serve(healthy)
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url),
        "CDGEN_CANARY_TRAFFIC": "gateway",
        "CDGEN_CANARY_ROUTE": "gw-route",
        "CDGEN_CANARY_STEPS": "5,25,50",
        "CDGEN_CANARY_PAUSE": "1s",
    }
    result = canary_deploy("gw", "--image", NEW, env=env)
    assert result.code == 0, result.log
    assert weights(sandbox, "gw") == [
        [("gw", 95), ("gw-canary", 5)],
        [("gw", 75), ("gw-canary", 25)],
        [("gw", 50), ("gw-canary", 50)],
        [("gw", 1)],  # restored: the original backend
    ]
    state = sandbox.state()
    restored = state["httproutes"][f"{NAMESPACE}/gw-route"]
    assert restored["spec"] == original["spec"]
    assert f"{NAMESPACE}/gw-canary" not in state["services"]
    assert f"{NAMESPACE}/gw-canary" not in state["deployments"]
    assert state["deployments"][f"{NAMESPACE}/gw"]["containers"] == {"gw": NEW}
    summary = result.summary
    assert "HTTPRoute weights" in summary
    for row in ("| 1 | 5% | 5.0% | 1 | 1 | ✅ passed |", "| 3 | 50% | 50.0% | 2 | 1 | ✅ passed |"):
        assert row in summary
    # The canary Service, applied first, selects only the canary's pods.
    applied = [argv for argv in sandbox.calls() if argv[0] == "apply"]
    assert len(applied) == 1 + 1 and [argv[0] for argv in sandbox.calls()].count("scale") == 2


def test_the_canary_pods_are_not_the_stable_services(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    gateway_lab(sandbox, "gwp")

    def snapshot(name: str, record: dict[str, Any]) -> Traffic:
        if name == "gwp-canary":
            seen.append(copy.deepcopy(sandbox.state()))
        return Traffic()

    seen: list[dict[str, Any]] = []
    serve(snapshot)
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url),
        "CDGEN_CANARY_TRAFFIC": "gateway",
        "CDGEN_CANARY_ROUTE": "gwp-route",
        "CDGEN_CANARY_PAUSE": "1s",
    }
    assert canary_deploy("gwp", "--image", NEW, env=env).code == 0
    during = seen[0]
    canary = during["deployments"][f"{NAMESPACE}/gwp-canary"]
    stable_selector = during["services"][f"{NAMESPACE}/gwp"]["spec"]["selector"]
    assert any(canary["labels"].get(k) != v for k, v in stable_selector.items())
    canary_service = during["services"][f"{NAMESPACE}/gwp-canary"]
    selector = canary_service["spec"]["selector"]
    assert all(canary["labels"][k] == v for k, v in selector.items())
    assert canary["labels"]["app"] == "gwp-canary" and canary["labels"]["track"] == "canary"
    assert canary_service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    ]
    assert canary["containers"] == {"gwp": NEW}


def test_an_abort_restores_the_weights_before_the_canary_goes(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    original = gateway_lab(sandbox, "gwa")
    serve(lambda name, _r: Traffic(error_ratio=0.3 if name == "gwa-canary" else 0.0))
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url),
        "CDGEN_CANARY_TRAFFIC": "gateway",
        "CDGEN_CANARY_ROUTE": "gwa-route",
        "CDGEN_CANARY_PAUSE": "3s",
    }
    result = canary_deploy("gwa", "--image", NEW, env=env)
    assert result.outputs["result"] == "rolled-back", result.log
    verbs = [argv[0] for argv in sandbox.calls()]
    last_patch, delete = len(verbs) - 1 - verbs[::-1].index("patch"), verbs.index("delete")
    assert last_patch < delete
    delete_call = sandbox.calls()[delete]
    assert delete_call[1:3] == ["deployment/gwa-canary", "service/gwa-canary"]
    state = sandbox.state()
    assert state["httproutes"][f"{NAMESPACE}/gwa-route"]["spec"] == original["spec"]
    assert state["deployments"][f"{NAMESPACE}/gwa"]["containers"] == {"gwa": GOOD}
