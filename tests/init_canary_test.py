"""`cdgen init` offers a canary for production: 5% for 10 minutes, its queries written for
the metrics library the service uses, by an HTTPRoute when one sends to the Deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.init_repos import git_init, make_node_service, make_python_service, write

from cdgen.init import finish, start
from cdgen.init.answers import questions

PROMETHEUS = "https://prometheus.example.com"
CANARY = "environments.production.canary"


def init(
    root: Path, answers: dict[str, str] | None = None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    detection = start(root, force=False)
    outcome = finish(
        detection, answers if answers is not None else {CANARY: PROMETHEUS}, force=False
    )
    descriptor: dict[str, Any] = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    return descriptor, outcome.notes


def production(descriptor: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = descriptor["environments"][1]
    return found


def test_no_canary_unless_asked(tmp_path: Path) -> None:
    descriptor, _ = init(make_node_service(tmp_path), {})
    assert all("canary" not in env for env in descriptor["environments"])
    (question,) = [q for q in questions(start(tmp_path, force=True)) if q.key == CANARY]
    assert question.default == "" and question.optional
    assert "5% of the traffic for 10 minutes" in question.prompt
    assert question.check("not a url") is not None and question.check("") is None


def test_the_offer_for_a_node_service_with_express_prom_bundle(tmp_path: Path) -> None:
    root = make_node_service(tmp_path)
    package = json.loads((root / "package.json").read_text())
    package["dependencies"] = {"express": "^4", "express-prom-bundle": "^7"}
    write(root, "package.json", json.dumps(package))
    (question,) = [q for q in questions(start(root, force=False)) if q.key == CANARY]
    assert "from express-prom-bundle" in question.prompt
    descriptor, _ = init(root)
    canary = production(descriptor)["canary"]
    assert canary["steps"] == [5] and canary["pause"] == "10m" and canary["traffic"] == "replicas"
    analysis = canary["analysis"]
    assert analysis["prometheus"] == PROMETHEUS and analysis["on-no-data"] == "fail"
    errors, latency = analysis["metrics"]
    assert errors["name"] == "error-rate" and errors["max"] == 0.01
    assert (
        'http_request_duration_seconds_count{namespace="$namespace",pod=~"$canary-.+",status_code=~"5.."}'
        in errors["query"]
    )
    assert "or vector(0)" in errors["query"]
    assert latency["query"].startswith(
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{"
    )
    assert latency["max"] == 0.5
    text = (root / "cdgen.yml").read_text()
    assert "# Written for express-prom-bundle; $canary is the canary Deployment." in text
    assert (root / ".github/workflows/cd.yml").read_text().count("strategy: canary") == 1


@pytest.mark.parametrize(
    ("dependency", "counter", "status"),
    [
        ("prometheus-fastapi-instrumentator>=6", "http_requests_total", 'status="5xx"'),
        ("prometheus_flask_exporter==0.23", "flask_http_request_total", 'status=~"5.."'),
        ("django-prometheus", "django_http_responses_total_by_status_total", 'status=~"5.."'),
        ("starlette-exporter", "starlette_requests_total", 'status_code=~"5.."'),
        ("requests", "http_requests_total", 'code=~"5.."'),  # no metrics library known
    ],
)
def test_python_libraries(tmp_path: Path, dependency: str, counter: str, status: str) -> None:
    root = make_python_service(tmp_path)
    write(root, "requirements.txt", f"{dependency}\n")
    descriptor, _ = init(root)
    errors = production(descriptor)["canary"]["analysis"]["metrics"][0]["query"]
    assert f"{counter}{{" in errors and status in errors


ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public-api}
spec:
  rules:
    - backendRefs: [{name: api, port: 80}]
"""


def test_an_httproute_to_the_service_makes_it_a_gateway_canary(tmp_path: Path) -> None:
    root = make_node_service(tmp_path)
    write(root, "k8s/route.yaml", ROUTE)
    descriptor, _ = init(root)
    canary = production(descriptor)["canary"]
    assert canary["traffic"] == "gateway" and canary["route"] == "public-api"
    cd = (root / ".github/workflows/cd.yml").read_text()
    assert "canary-route: public-api" in cd


def test_too_few_replicas_for_five_percent_is_noted(tmp_path: Path) -> None:
    root = tmp_path / "svc"
    git_init(root, "https://github.com/acme/svc.git")
    write(root, "Dockerfile", "FROM scratch\n")
    write(
        root,
        "k8s/svc.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: svc}\n"
        "spec: {replicas: 3, template: {spec: {containers: [{name: svc}]}}}\n",
    )
    _, notes = init(root)
    (note,) = [n for n in notes if n.startswith("canary:")]
    assert "Deployment 'svc' has 3 replica(s)" in note
    assert "the step needs at least 9 stable replicas" in note
    assert "canary.traffic: gateway" in note


def test_the_first_deploy_role_has_what_the_canary_needs(tmp_path: Path) -> None:
    root = make_node_service(tmp_path)
    outcome = finish(start(root, force=False), {CANARY: PROMETHEUS}, force=False)
    steps = "\n".join(outcome.first_deploy)
    staging, production_part = steps.split("# production:")
    assert 'resources: ["deployments/scale"]' in production_part
    assert 'resources: ["deployments/scale"]' not in staging
