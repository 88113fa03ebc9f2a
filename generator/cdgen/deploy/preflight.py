"""Checks on the Deployment before anything changes: will a rollout keep capacity, does
``rollout status`` prove anything, can the deploy be undone?

The document is ``kubectl get deployment -o json``. The API server fills in the defaults
(RollingUpdate with maxSurge and maxUnavailable 25%, revisionHistoryLimit 10, replicas 1);
a missing field is read with the same default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

WARN = "warn"
FAIL = "fail"
SAFE_STRATEGY = (
    '{"spec":{"strategy":{"type":"RollingUpdate",'
    '"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}}}'
)
MIN_HISTORY = 2


@dataclass(frozen=True)
class Finding:
    """A problem found before the deploy: ``fail`` stops it with nothing changed."""

    level: str
    message: str
    fix: str


@dataclass(frozen=True)
class Where:
    namespace: str
    deployment: str

    def kubectl(self, *args: str) -> str:
        return " ".join(["kubectl", args[0], f"deployment/{self.deployment}", *args[1:], self._ns])

    @property
    def _ns(self) -> str:
        return f"--namespace={self.namespace}"


def scaled(value: object, total: int, *, round_up: bool) -> int | None:
    """An int-or-percent value resolved against ``total`` as Kubernetes does
    (intstr.GetScaledValueFromIntOrPercent); None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"([0-9]{1,3})%", value) if isinstance(value, str) else None
    if match is None:
        return None
    exact = int(match.group(1)) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strategy(spec: dict[str, Any], where: Where) -> list[Finding]:
    strategy = _mapping(spec.get("strategy"))
    fix = f"{where.kubectl('patch')} --patch='{SAFE_STRATEGY}'"
    if strategy.get("type", "RollingUpdate") == "Recreate":
        message = "strategy Recreate stops every pod before the new ones start: capacity drops"
        return [Finding(WARN, message, fix)]
    replicas = spec.get("replicas", 1)
    replicas = replicas if isinstance(replicas, int) else 1
    rolling = _mapping(strategy.get("rollingUpdate"))
    unavailable_raw = rolling.get("maxUnavailable", "25%")
    surge_raw = rolling.get("maxSurge", "25%")
    unavailable = scaled(unavailable_raw, replicas, round_up=False)
    surge = scaled(surge_raw, replicas, round_up=True)
    findings = []
    if unavailable is not None and unavailable > 0:
        findings.append(
            Finding(
                WARN,
                f"maxUnavailable {unavailable_raw} lets {unavailable} of {replicas} pods go "
                "down during a rollout: capacity drops (the safe setting is 0, with maxSurge 1)",
                fix,
            )
        )
    if surge == 0:
        findings.append(
            Finding(
                WARN,
                f"maxSurge {surge_raw} starts no new pod before an old one stops: capacity "
                "drops during a rollout (the safe setting is 1, with maxUnavailable 0)",
                fix,
            )
        )
    return findings


def _readiness(spec: dict[str, Any]) -> list[Finding]:
    pod = _mapping(_mapping(spec.get("template")).get("spec"))
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    missing = [str(c.get("name")) for c in containers if not c.get("readinessProbe")]
    if not missing:
        return []
    names = ", ".join(missing)
    return [
        Finding(
            WARN,
            f"container {names} has no readiness probe: `rollout status` then only proves the "
            "pods started, not that they serve",
            f"add a readinessProbe to container {names} in the Deployment's manifest "
            "(e.g. an httpGet on the service's health path)",
        )
    ]


def _history(spec: dict[str, Any], where: Where) -> list[Finding]:
    limit = spec.get("revisionHistoryLimit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit >= MIN_HISTORY:
        return []
    patch = '{"spec":{"revisionHistoryLimit":10}}'
    return [
        Finding(
            FAIL,
            f"revisionHistoryLimit is {limit}: Kubernetes keeps too few old ReplicaSets for "
            f"`rollout undo` (at least {MIN_HISTORY} are needed); nothing was changed",
            f"{where.kubectl('patch')} --patch='{patch}'",
        )
    ]


def _paused(spec: dict[str, Any], where: Where) -> list[Finding]:
    if spec.get("paused") is not True:
        return []
    return [
        Finding(
            FAIL,
            "the Deployment is paused: a new image would not roll out and `rollout undo` "
            "refuses to run; nothing was changed",
            f"{where.kubectl('rollout resume')}",
        )
    ]


def check_deployment(document: dict[str, Any], where: Where) -> list[Finding]:
    """Every finding about the Deployment, failures first."""
    spec = _mapping(document.get("spec"))
    findings = [
        *_paused(spec, where),
        *_history(spec, where),
        *_strategy(spec, where),
        *_readiness(spec),
    ]
    return sorted(findings, key=lambda finding: finding.level != FAIL)
