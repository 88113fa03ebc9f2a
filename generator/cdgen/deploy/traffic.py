"""How a canary gets its share of traffic, and the objects it runs as.

``replicas``: the canary pods carry the labels the Service selects, so the Service spreads
requests over stable and canary pods alike; p% of the traffic takes ceil(p·N/(100-p)) canary
pods beside N stable ones, and the real share is what that count gives.

``gateway``: the canary pods do not match the stable Service (the values of its selector's
labels get a ``-canary`` suffix); a canary Service selects them, and the HTTPRoute's rule
sends p% to it by ``backendRefs[].weight``.

Either way the canary is a Deployment of its own, ``<deployment>-canary``, a copy of the
stable one's spec with the new image and a ``track: canary`` label, so queries can tell the
two apart. Nothing here runs kubectl: it computes plans and manifests.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass
from typing import Any

SUFFIX = "-canary"
TRACK = "track"
CANARY_OF = "cdgen.dev/canary-of"
MAX_STABLE_SEARCH = 100_000


def canary_replicas(percent: int, stable: int) -> int:
    return max(1, math.ceil(percent * stable / (100 - percent)))


def real_share(percent: int, stable: int) -> float:
    """The share of traffic, in percent, that ceil(p·N/(100-p)) canary pods take."""
    canary = canary_replicas(percent, stable)
    return 100.0 * canary / (stable + canary)


def stable_replicas_needed(percent: int, stable: int) -> int | None:
    """The fewest stable replicas (at least ``stable``) giving a share within twice p%."""
    for count in range(max(stable, 1), MAX_STABLE_SEARCH):
        if real_share(percent, count) <= 2 * percent:
            return count
    return None


def replica_refusal(percent: int, stable: int) -> str:
    """Why a replicas step cannot give about p% with ``stable`` replicas; "" when it can."""
    share = real_share(percent, stable)
    if share <= 2 * percent:
        return ""
    canary = canary_replicas(percent, stable)
    needed = stable_replicas_needed(percent, stable)
    more = f"at least {needed} stable replicas" if needed else "far more stable replicas"
    return (
        f"canary step {percent}%: {canary} canary pod(s) beside {stable} stable one(s) take "
        f"{share:.1f}% of the traffic, more than twice {percent}%; the step needs {more}, "
        "or canary traffic gateway (exact HTTPRoute weights)"
    )


def label_value(name: str) -> str:
    """``name`` as a label value (at most 63 characters), shortened with a hash if needed."""
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name[:54].rstrip("-._") + "-" + digest


def _suffixed(value: str) -> str:
    return label_value(value[: 63 - len(SUFFIX)].rstrip("-._") + SUFFIX)


def canary_labels(
    stable_labels: dict[str, str], moved: tuple[str, ...], name: str
) -> dict[str, str]:
    """The canary pods' labels: the stable template's, ``moved`` keys suffixed (so a Service
    selecting them no longer matches), ``track: canary`` unless the template has a track of
    its own (a Service may select it), and which canary they belong to."""
    labels = {
        key: _suffixed(value) if key in moved else value for key, value in stable_labels.items()
    }
    labels.setdefault(TRACK, "canary")
    labels[CANARY_OF] = label_value(name)
    return labels


def canary_deployment(
    stable: dict[str, Any],
    *,
    name: str,
    container: str,
    image: str,
    replicas: int,
    moved: tuple[str, ...],
) -> dict[str, Any]:
    """The canary Deployment: the stable one's pod template with the new image, its own
    selector, and none of the stable object's status or server-set metadata."""
    template = copy.deepcopy(stable["spec"]["template"])
    template.setdefault("metadata", {})
    labels = canary_labels(template["metadata"].get("labels") or {}, moved, name)
    template["metadata"]["labels"] = labels
    for spec in template["spec"]["containers"]:
        if spec.get("name") == container:
            spec["image"] = image
    keep = ("minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit", "strategy")
    spec = {key: copy.deepcopy(stable["spec"][key]) for key in keep if key in stable["spec"]}
    spec.update(
        replicas=replicas,
        selector={"matchLabels": {CANARY_OF: labels[CANARY_OF]}},
        template=template,
    )
    metadata = stable.get("metadata", {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": metadata.get("namespace", ""),
            "labels": {**(metadata.get("labels") or {}), TRACK: "canary"},
            "annotations": {CANARY_OF: str(metadata.get("name", ""))},
        },
        "spec": spec,
    }


def service_selects(service: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def canary_service(
    stable: dict[str, Any], name: str, labels: dict[str, str], deployment: str
) -> dict[str, Any]:
    """A Service for the canary pods alone, with the stable Service's ports; annotated, as
    the canary Deployment is, with the stable Deployment it is the canary of."""
    keys = ("name", "port", "targetPort", "protocol", "appProtocol")
    ports = [{k: p[k] for k in keys if k in p} for p in stable["spec"].get("ports") or []]
    selector = {key: labels[key] for key in stable["spec"]["selector"]}
    selector[CANARY_OF] = labels[CANARY_OF]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": stable["metadata"].get("namespace", ""),
            "labels": {TRACK: "canary"},
            "annotations": {CANARY_OF: deployment},
        },
        "spec": {"selector": selector, "ports": ports},
    }


@dataclass(frozen=True)
class RoutePlan:
    """The HTTPRoute rules that send traffic to the stable Service, and their backends."""

    route: str
    service: str  # the stable Service
    canary_service: str
    rules: tuple[tuple[int, tuple[dict[str, Any], ...]], ...]  # (rule index, its backendRefs)

    def backends(self, percent: int, original: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
        (stable,) = original
        canary = {**stable, "name": self.canary_service, "weight": percent}
        return [{**stable, "weight": 100 - percent}, canary]

    def patch(
        self, percent: int, current: int, live: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str]:
        """A JSON patch from ``current`` percent (0: the original route) to ``percent`` (0:
        back to it), or why not. ``live`` is the route as read: each rule must still send
        what this run left it sending (names and weights; the API server may have added
        defaulted fields), and the patch tests that exact value first, so a route changed
        since is refused by the API server rather than overwritten."""
        ops: list[dict[str, Any]] = []
        for index, original in self.rules:
            path = f"/spec/rules/{index}/backendRefs"
            expected = self.backends(current, original) if current else list(original)
            found = _rule_refs(live, index)
            if found is None or _shape(found) != _shape(expected):
                shown = ", ".join(f"{n} {w}" for n, w in _shape(found or [])) or "nothing"
                return [], (
                    f"rule {index} of HTTPRoute {self.route} is not as this run left it "
                    f"(it sends to: {shown}); someone else changed it"
                )
            wanted = self.backends(percent, original) if percent else list(original)
            ops += [
                {"op": "test", "path": path, "value": found},
                {"op": "replace", "path": path, "value": wanted},
            ]
        return ops, ""

    def restore_by_hand(self) -> list[dict[str, Any]]:
        """The original backends, untested: what a person runs after reading the report."""
        return [
            {"op": "replace", "path": f"/spec/rules/{index}/backendRefs", "value": list(refs)}
            for index, refs in self.rules
        ]


def _rule_refs(route: dict[str, Any], index: int) -> list[dict[str, Any]] | None:
    rules = (route.get("spec") or {}).get("rules") or []
    refs = rules[index].get("backendRefs") if index < len(rules) else None
    return refs if isinstance(refs, list) else None


def _shape(refs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """What a rule sends where: (backend, weight), the weight's default (1) filled in."""
    return [(str(r.get("name")), int(r.get("weight", 1))) for r in refs if isinstance(r, dict)]


def _is_service(ref: dict[str, Any]) -> bool:
    return ref.get("group", "") in ("", "core") and ref.get("kind", "Service") == "Service"


def service_names(route: dict[str, Any]) -> list[str]:
    """The Services the route's rules send traffic to, in order."""
    names: list[str] = []
    for rule in (route.get("spec") or {}).get("rules") or []:
        for ref in rule.get("backendRefs") or []:
            if isinstance(ref, dict) and _is_service(ref) and ref.get("name") not in names:
                names.append(str(ref.get("name")))
    return names


def plan_route(route: dict[str, Any], name: str, service: str) -> tuple[RoutePlan | None, str]:
    """The plan for reweighting ``route`` between ``service`` and its canary, or why not."""
    canary = service + SUFFIX
    rules = []
    for index, rule in enumerate((route.get("spec") or {}).get("rules") or []):
        refs = tuple(ref for ref in rule.get("backendRefs") or [] if isinstance(ref, dict))
        names = [ref.get("name") for ref in refs if _is_service(ref)]
        if canary in names:
            return None, (
                f"HTTPRoute {name} already sends traffic to {canary} (left by an earlier run?); "
                f"remove that backendRef from rule {index} first"
            )
        if service not in names:
            continue
        if len(refs) != 1:
            return None, (
                f"rule {index} of HTTPRoute {name} splits traffic between {len(refs)} backends; "
                f"a canary reweights only rules whose one backend is {service}"
            )
        rules.append((index, refs))
    if not rules:
        return None, f"HTTPRoute {name} has no rule sending traffic to Service {service}"
    return RoutePlan(name, service, canary, tuple(rules)), ""
