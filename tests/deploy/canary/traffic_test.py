"""The replica arithmetic, the canary's objects and the HTTPRoute plan."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cdgen.deploy.traffic import (
    canary_deployment,
    canary_replicas,
    canary_service,
    label_value,
    plan_route,
    real_share,
    replica_refusal,
    stable_replicas_needed,
)


@pytest.mark.parametrize(
    ("percent", "stable", "canary", "share"),
    [
        (5, 19, 1, 5.0),
        (5, 20, 2, 100 * 2 / 22),  # ceil(100/95) = 2
        (25, 19, 7, 100 * 7 / 26),
        (50, 4, 4, 50.0),
        (1, 1, 1, 50.0),
        (99, 1, 99, 99.0),
    ],
)
def test_canary_replicas_and_the_real_share(
    percent: int, stable: int, canary: int, share: float
) -> None:
    assert canary_replicas(percent, stable) == canary
    assert real_share(percent, stable) == pytest.approx(share)


def test_the_refusal_says_how_many_stable_replicas_it_would_take() -> None:
    assert replica_refusal(5, 19) == ""
    said = replica_refusal(5, 2)
    assert "take 33.3% of the traffic, more than twice 5%" in said
    assert "at least 9 stable replicas" in said and "canary traffic gateway" in said
    needed = stable_replicas_needed(5, 2)
    assert needed == 9 and real_share(5, 9) <= 10 < real_share(5, 8)
    for percent in range(1, 100):  # the answer is the least that works, for every step
        found = stable_replicas_needed(percent, 1)
        assert found is not None and real_share(percent, found) <= 2 * percent
        assert found == 1 or real_share(percent, found - 1) > 2 * percent


STABLE: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "api",
        "namespace": "prod",
        "labels": {"app": "api"},
        "annotations": {"deployment.kubernetes.io/revision": "7", "cdgen.dev/deploy-lock": "x"},
        "resourceVersion": "42",
        "uid": "u",
    },
    "spec": {
        "replicas": 19,
        "paused": True,
        "selector": {"matchLabels": {"app": "api"}},
        "strategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"app": "api", "tier": "web"}, "annotations": {"scrape": "1"}},
            "spec": {
                "containers": [{"name": "api", "image": "old"}, {"name": "proxy", "image": "p"}]
            },
        },
    },
    "status": {"replicas": 19},
}


def test_the_canary_deployment_copies_the_pod_template_not_the_object() -> None:
    before = copy.deepcopy(STABLE)
    made = canary_deployment(
        STABLE, name="api-canary", container="api", image="new", replicas=1, moved=()
    )
    assert before == STABLE  # the stable document is not changed
    assert made["metadata"] == {
        "name": "api-canary",
        "namespace": "prod",
        "labels": {"app": "api", "track": "canary"},
        "annotations": {"cdgen.dev/canary-of": "api"},
    }
    spec = made["spec"]
    assert "paused" not in spec and "status" not in made
    assert spec["replicas"] == 1
    assert spec["selector"] == {"matchLabels": {"cdgen.dev/canary-of": "api-canary"}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels == {
        "app": "api",
        "tier": "web",
        "track": "canary",
        "cdgen.dev/canary-of": "api-canary",
    }
    assert spec["template"]["metadata"]["annotations"] == {"scrape": "1"}
    assert [c["image"] for c in spec["template"]["spec"]["containers"]] == ["new", "p"]


def test_gateway_canary_pods_leave_the_stable_service() -> None:
    made = canary_deployment(
        STABLE, name="api-canary", container="api", image="new", replicas=1, moved=("app",)
    )
    labels = made["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == "api-canary" and labels["tier"] == "web"
    stable_service = {
        "metadata": {"name": "api", "namespace": "prod"},
        "spec": {
            "selector": {"app": "api"},
            "ports": [{"port": 80, "nodePort": 30001}],
            "clusterIP": "10.0.0.1",
        },
    }
    service = canary_service(stable_service, "api-canary", labels, "api")
    assert service["metadata"]["annotations"] == {"cdgen.dev/canary-of": "api"}
    assert service["spec"] == {
        "selector": {"app": "api-canary", "cdgen.dev/canary-of": "api-canary"},
        "ports": [{"port": 80}],
    }


def test_long_names_make_valid_label_values() -> None:
    long = "a" * 60 + "-canary"
    value = label_value(long)
    assert len(value) <= 63 and value != label_value("b" * 60 + "-canary")
    made = canary_deployment(
        STABLE, name=long, container="api", image="n", replicas=1, moved=("app",)
    )
    assert all(len(v) <= 63 for v in made["spec"]["template"]["metadata"]["labels"].values())


def route(*rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"spec": {"rules": [{"backendRefs": refs} for refs in rules]}}


def test_a_route_plan_patches_only_the_stable_rules_and_tests_them_first() -> None:
    original = route(
        [{"name": "api", "port": 80}],
        [{"name": "docs"}],
        [{"name": "api", "port": 80, "weight": 3}],
    )
    plan, problem = plan_route(original, "web", "api")
    assert problem == "" and plan is not None
    ops, problem = plan.patch(10, 0, original)
    assert problem == ""
    assert [(op["op"], op["path"]) for op in ops] == [
        ("test", "/spec/rules/0/backendRefs"),
        ("replace", "/spec/rules/0/backendRefs"),
        ("test", "/spec/rules/2/backendRefs"),
        ("replace", "/spec/rules/2/backendRefs"),
    ]
    assert ops[3]["value"] == [
        {"name": "api", "port": 80, "weight": 90},
        {"name": "api-canary", "port": 80, "weight": 10},
    ]
    # As the API server stores it: its defaults added. The test carries what was read.
    stored = route(
        [{**ref, "group": "", "kind": "Service"} for ref in ops[1]["value"]],
        [{"name": "docs"}],
        [{**ref, "group": "", "kind": "Service"} for ref in ops[3]["value"]],
    )
    back, problem = plan.patch(0, 10, stored)
    assert problem == ""
    assert back[0]["value"] == stored["spec"]["rules"][0]["backendRefs"]
    assert back[3]["value"] == [{"name": "api", "port": 80, "weight": 3}]
    assert plan.restore_by_hand() == [op for op in back if op["op"] == "replace"]


def test_a_route_someone_else_changed_is_not_patched() -> None:
    original = route([{"name": "api", "port": 80}])
    plan, _ = plan_route(original, "web", "api")
    assert plan is not None
    edited = route(
        [{"name": "api", "port": 80, "weight": 90}, {"name": "api-canary", "weight": 10}]
    )
    ops, problem = plan.patch(0, 5, edited)
    assert ops == []
    assert problem == (
        "rule 0 of HTTPRoute web is not as this run left it (it sends to: api 90, "
        "api-canary 10); someone else changed it"
    )
    assert plan.patch(5, 0, route())[1].startswith("rule 0 of HTTPRoute web is not as")


@pytest.mark.parametrize(
    ("rules", "said"),
    [
        ([[{"name": "docs"}]], "has no rule sending traffic to Service api"),
        (
            [[{"name": "api"}, {"name": "v1"}]],
            "rule 0 of HTTPRoute web splits traffic between 2 backends",
        ),
        ([[{"name": "api"}, {"name": "api-canary"}]], "already sends traffic to api-canary"),
    ],
)
def test_routes_the_plan_refuses(rules: list[list[dict[str, Any]]], said: str) -> None:
    plan, problem = plan_route(route(*rules), "web", "api")
    assert plan is None and said in problem


def test_a_track_label_of_the_template_is_kept() -> None:
    """A Service may select it: replacing it would take the canary out of the traffic."""
    stable = copy.deepcopy(STABLE)
    stable["spec"]["template"]["metadata"]["labels"]["track"] = "stable"
    made = canary_deployment(
        stable, name="api-canary", container="api", image="n", replicas=1, moved=()
    )
    assert made["spec"]["template"]["metadata"]["labels"]["track"] == "stable"
