"""A canary's permissions in the RBAC table: enough for a replicas and a gateway canary,
each one needed by a command a canary runs, and asked for by `cdgen doctor` where an
environment has a canary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.prometheus_server import Prometheus
from support.sandbox import image

from cdgen.deploy.rbac import CANARY, CANARY_GATEWAY, features_of, permissions, role_manifest
from cdgen.doctor import doctor

from ..conftest import NAMESPACE, Sandbox
from .conftest import CanaryDeploy, Shape, analysis, healthy
from .gateway_test import gateway_lab, service

NEW = image("v2")
GATEWAY = features_of("gateway")
CANARY_ONLY = [
    (verb, resource)
    for verb, resource, _ in permissions(GATEWAY)
    if (verb, resource) not in {(v, r) for v, r, _ in permissions()}
]


def granted(without: tuple[str, str] | None = None) -> dict[str, list[str]]:
    rbac: dict[str, list[str]] = {}
    for verb, resource, _why in permissions(GATEWAY):
        if (verb, resource) != without:
            rbac.setdefault(resource, []).append(verb)
    return rbac


def run_gateway_canary(
    canary_deploy: CanaryDeploy, sandbox: Sandbox, prometheus: Prometheus, *, leftover: bool
) -> Any:
    gateway_lab(sandbox, "rbac")
    if leftover:  # a canary Service left by a run that died: apply patches it
        sandbox.update(
            services={
                **sandbox.state()["services"],
                f"{NAMESPACE}/rbac-canary": {
                    **service("rbac-canary", "old"),
                    "metadata": {
                        "name": "rbac-canary",
                        "annotations": {"cdgen.dev/canary-of": "rbac"},
                    },
                },
            }
        )
    env = {
        "CDGEN_ANALYSIS": analysis(prometheus.url, **{"on-no-data": "pass"}),
        "CDGEN_CANARY_TRAFFIC": "gateway",
        "CDGEN_CANARY_ROUTE": "rbac-route",
        "CDGEN_CANARY_STEPS": "5,25",
        "CDGEN_CANARY_PAUSE": "1s",
    }
    return canary_deploy("rbac", "--image", NEW, env=env)


def test_the_table_is_enough_for_a_gateway_canary(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
) -> None:
    serve(healthy)
    sandbox.update(rbac=granted())
    result = run_gateway_canary(canary_deploy, sandbox, prometheus, leftover=False)
    assert result.outputs["result"] == "deployed", result.log
    assert "Forbidden" not in result.log


@pytest.mark.parametrize("missing", CANARY_ONLY, ids="-".join)
def test_every_canary_permission_is_needed(
    canary_deploy: CanaryDeploy,
    sandbox: Sandbox,
    prometheus: Prometheus,
    serve: Callable[[Shape], None],
    missing: tuple[str, str],
) -> None:
    serve(healthy)
    sandbox.update(rbac=granted(without=missing))
    leftover = missing == ("patch", "services")
    result = run_gateway_canary(canary_deploy, sandbox, prometheus, leftover=leftover)
    verb, resource = missing
    kinds, _, group = resource.partition(".")
    plural, _, sub = kinds.partition("/")
    forbidden = f'cannot {verb} resource "{plural}"' + (f' subresource "{sub}"' if sub else "")
    assert f'{forbidden} in API group "{group}"' in result.log, result.log


def test_the_role_of_a_canary_environment(tmp_path: Path) -> None:
    replicas, gateway = (
        role_manifest("x", features=features_of("replicas")),
        role_manifest("x", features=GATEWAY),
    )
    assert 'resources: ["deployments/scale"]' in replicas and "httproutes" not in replicas
    assert 'resources: ["httproutes"]' in gateway and 'resources: ["services"]' in gateway
    assert {CANARY, CANARY_GATEWAY} <= set(GATEWAY)


def test_doctor_asks_for_what_the_canary_needs(sandbox: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cdgen.yml"
    config.write_text(
        "version: 1\nname: api\nenvironments:\n"
        "  - name: staging\n    url: https://staging.example.com\n"
        "    kubernetes: { namespace: staging }\n"
        "    canary:\n      traffic: gateway\n      route: api\n"
        "      analysis:\n        prometheus: https://prometheus.example.com\n"
        "        metrics: [{ name: errors, query: 'sum(up)', max: 1 }]\n",
        encoding="utf-8",
    )
    sandbox.update(rbac=granted(without=("patch", "deployments/scale.apps")))
    (report,) = doctor(config, "cdgen.yml")
    failed = [check.message for check in report.checks if check.level == "fail"]
    assert failed == [
        "not allowed to patch deployments/scale.apps in namespace staging "
        "(needed to scale a canary step by step)"
    ]
    assert 'resources: ["deployments/scale"]' in report.role
    asked = [argv for argv in sandbox.calls() if argv[:2] == ["auth", "can-i"]]
    assert ["auth", "can-i", "patch", "deployments.apps", "--subresource=scale"] in [
        argv[:5] for argv in asked
    ]
    assert ["auth", "can-i", "get", "httproutes.gateway.networking.k8s.io"] in [
        argv[:4] for argv in asked
    ]
