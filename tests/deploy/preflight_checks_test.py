"""The preflight's checks of a Deployment document (kubectl get -o json): capacity during a
rollout, readiness probes, the history an undo needs, a paused Deployment."""

from __future__ import annotations

from typing import Any

import pytest
from support.sandbox import GOOD

from cdgen.deploy.preflight import FAIL, WARN, Where, check_deployment, scaled

WHERE = Where("prod", "api")


def spec(**fields: Any) -> dict[str, Any]:
    containers = [{"name": "api", "image": GOOD, "readinessProbe": {"httpGet": {"port": 80}}}]
    base: dict[str, Any] = {
        "replicas": 4,
        "revisionHistoryLimit": 10,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        },
        "template": {"spec": {"containers": containers}},
    }
    return {"spec": {**base, **fields}}


def rolling(surge: object, unavailable: object, replicas: int = 4) -> dict[str, Any]:
    strategy = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
    }
    return spec(replicas=replicas, strategy=strategy)


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [
        ("25%", 4, False, 1),
        ("25%", 3, False, 0),  # 0.75 rounds down: maxUnavailable
        ("25%", 3, True, 1),  # 0.75 rounds up: maxSurge
        ("25%", 1, True, 1),
        ("0%", 10, True, 0),
        ("100%", 3, False, 3),
        (2, 10, False, 2),
        ("2", 10, False, None),  # a string must be a percentage
        (True, 10, False, None),
        (None, 10, False, None),
    ],
)
def test_scaled_resolves_percentages_as_kubernetes(
    value: object, total: int, up: bool, expected: int | None
) -> None:
    assert scaled(value, total, round_up=up) == expected


def test_a_safe_deployment_has_no_findings() -> None:
    assert check_deployment(spec(), WHERE) == []


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # Kubernetes' default, 25%/25%: one of four pods may go down.
        (rolling("25%", "25%"), ["maxUnavailable 25% lets 1 of 4 pods go down"]),
        # The same default with one replica keeps capacity: 0 down, 1 surge.
        (rolling("25%", "25%", replicas=1), []),
        (rolling(0, 1), ["maxUnavailable 1 lets 1 of 4 pods go down", "maxSurge 0 starts"]),
        (
            rolling("0%", "10%", replicas=20),
            ["maxUnavailable 10% lets 2 of 20 pods", "maxSurge 0% starts no new pod"],
        ),
        (rolling(0, "10%", replicas=5), ["maxSurge 0 starts no new pod"]),
        (spec(strategy={"type": "Recreate"}), ["strategy Recreate stops every pod"]),
        # Fields the API server always fills in, read with its defaults when absent.
        ({"spec": {"template": {"spec": {"containers": []}}}}, []),
        (
            {"spec": {"replicas": 8, "template": {"spec": {"containers": []}}}},
            ["maxUnavailable 25% lets 2 of 8"],
        ),
    ],
)
def test_capacity_warnings(document: dict[str, Any], expected: list[str]) -> None:
    findings = check_deployment(document, WHERE)
    assert [f.level for f in findings] == [WARN] * len(expected)
    for finding, start in zip(findings, expected, strict=True):
        assert finding.message.startswith(start), finding.message
        assert 'maxUnavailable":0,"maxSurge":1' in finding.fix
        assert finding.fix.startswith("kubectl patch deployment/api --namespace=prod --patch=")


def test_missing_readiness_probes_are_named() -> None:
    containers = [{"name": "api", "image": GOOD}, {"name": "sidecar", "image": GOOD}]
    (finding,) = check_deployment(spec(template={"spec": {"containers": containers}}), WHERE)
    assert finding.level == WARN
    assert finding.message.startswith("container api, sidecar has no readiness probe")
    assert "readinessProbe" in finding.fix


@pytest.mark.parametrize("limit", [0, 1])
def test_too_short_a_history_fails(limit: int) -> None:
    (finding,) = check_deployment(spec(revisionHistoryLimit=limit), WHERE)
    assert finding.level == FAIL
    assert f"revisionHistoryLimit is {limit}" in finding.message
    assert finding.fix == (
        'kubectl patch deployment/api --namespace=prod --patch=\'{"spec":{"revisionHistoryLimit":10}}\''
    )


def test_a_paused_deployment_fails_first() -> None:
    findings = check_deployment(spec(paused=True, replicas=8, strategy={}), WHERE)
    assert [f.level for f in findings] == [FAIL, WARN]
    assert findings[0].message.startswith("the Deployment is paused")
    assert findings[0].fix == "kubectl rollout resume deployment/api --namespace=prod"
