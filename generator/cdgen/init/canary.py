"""The canary `cdgen init` offers: 5% of production's traffic for 10 minutes, judged by an
error rate and a 95th-percentile latency written for what the repository shows.

- The metric names come from the HTTP metrics library the service uses (package.json's
  dependencies, pyproject.toml or requirements.txt): each names its counters, labels and
  histograms its own way. Unknown: the conventional `http_requests_total` and
  `http_request_duration_seconds`.
- The canary's series are picked by pod name (`pod=~"$canary-.+"`) in its namespace: the
  labels Prometheus's Kubernetes pod discovery gives every scraped pod.
- An HTTPRoute among the manifests, sending to a Service named like the Deployment, makes
  the traffic `gateway` (exact weights); else `replicas`, with a note when the Deployment
  has too few replicas for a 5% step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cdgen.deploy.traffic import replica_refusal
from cdgen.init.detect import Detection
from cdgen.init.manifests import iterate_objects, list_yaml_files
from cdgen.init.reading import load_json, load_yaml_documents, read_text

STEP, PAUSE, INTERVAL = 5, "10m", "1m"  # the pause in words below: keep them alike
MAX_ERROR_RATE, MAX_P95_SECONDS = 0.01, 0.5
CANARY_PODS = 'namespace="$namespace",pod=~"$canary-.+"'


@dataclass(frozen=True)
class Library:
    """How an HTTP metrics library names requests, their status and their duration."""

    name: str
    requests: str  # a counter
    server_error: str  # the label matcher selecting 5xx answers
    duration: str  # a histogram (its _bucket series)


# Package name as written in dependencies (lowercase) -> the metrics it exports by default.
LIBRARIES: dict[str, Library] = {
    "express-prom-bundle": Library(
        "express-prom-bundle",
        "http_request_duration_seconds_count",
        'status_code=~"5.."',
        "http_request_duration_seconds",
    ),
    "prometheus-fastapi-instrumentator": Library(
        "prometheus-fastapi-instrumentator",
        "http_requests_total",
        'status="5xx"',
        "http_request_duration_seconds",
    ),
    "prometheus-flask-exporter": Library(
        "prometheus-flask-exporter",
        "flask_http_request_total",
        'status=~"5.."',
        "flask_http_request_duration_seconds",
    ),
    "django-prometheus": Library(
        "django-prometheus",
        "django_http_responses_total_by_status_total",
        'status=~"5.."',
        "django_http_requests_latency_seconds_by_view_method",
    ),
    "starlette-exporter": Library(
        "starlette-exporter",
        "starlette_requests_total",
        'status_code=~"5.."',
        "starlette_request_duration_seconds",
    ),
}
CONVENTIONAL = Library(
    "the conventional HTTP metrics",
    "http_requests_total",
    'code=~"5.."',
    "http_request_duration_seconds",
)


@dataclass(frozen=True)
class CanaryMetric:
    name: str
    query: str
    max: float


@dataclass(frozen=True)
class CanaryAnswers:
    prometheus: str
    library: str  # what the queries were written for
    traffic: str = "replicas"
    route: str | None = None
    steps: tuple[int, ...] = (STEP,)
    pause: str = PAUSE
    interval: str = INTERVAL
    metrics: tuple[CanaryMetric, ...] = ()


def find_library(root: Path, directories: list[str], notes: list[str]) -> Library:
    """The first known metrics library among the projects' dependencies."""
    for directory in directories:
        for name in _dependencies(root / directory, directory, notes):
            if name in LIBRARIES:
                return LIBRARIES[name]
    return CONVENTIONAL


def _dependencies(folder: Path, directory: str, notes: list[str]) -> list[str]:
    names: list[str] = []
    package = folder / "package.json"
    if package.is_file():
        data = load_json(read_text(package, notes, "package.json") or "{}", "package.json", notes)
        for table in ("dependencies", "devDependencies"):
            found = data.get(table) if isinstance(data, dict) else None
            names += [str(n).lower() for n in found] if isinstance(found, dict) else []
    for python in ("pyproject.toml", "requirements.txt"):
        path = folder / python
        if path.is_file():
            text = read_text(path, notes, f"{directory}/{python}") or ""
            names += [n.lower().replace("_", "-") for n in re.findall(r"[A-Za-z0-9_.-]+", text)]
    return names


def queries(library: Library) -> tuple[CanaryMetric, CanaryMetric]:
    """The error rate (5xx answers over all) and the p95 latency of the canary's pods. No
    5xx series at all is an error rate of 0, not no data; no requests at all is no data."""
    requests = f"sum(rate({library.requests}{{{CANARY_PODS}}}[1m]))"
    errors = f"sum(rate({library.requests}{{{CANARY_PODS},{library.server_error}}}[1m]))"
    buckets = f"{library.duration}_bucket{{{CANARY_PODS}}}"
    return (
        CanaryMetric("error-rate", f"({errors} or vector(0)) / {requests}", MAX_ERROR_RATE),
        CanaryMetric(
            "p95-latency",
            f"histogram_quantile(0.95, sum by (le) (rate({buckets}[1m])))",
            MAX_P95_SECONDS,
        ),
    )


def find_route(root: Path, service: str, notes: list[str]) -> str | None:
    """The one HTTPRoute among the manifests that sends traffic to Service ``service``."""
    found = []
    for path in list_yaml_files(root, []):
        relative = path.relative_to(root).as_posix()
        text = read_text(path, [], relative)
        if text is None or "HTTPRoute" not in text or "{{" in text:
            continue
        for document in iterate_objects(load_yaml_documents(text, relative, []) or []):
            name = _route_to(document, service)
            if name:
                found.append(name)
    if len(found) > 1:
        notes.append(f"Several HTTPRoutes send traffic to {service}: set canary.route by hand.")
    return found[0] if len(found) == 1 else None


def _route_to(document: dict[str, object], service: str) -> str | None:
    metadata, spec = document.get("metadata"), document.get("spec")
    if document.get("kind") != "HTTPRoute" or not isinstance(metadata, dict):
        return None
    rules = spec.get("rules") if isinstance(spec, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        refs = rule.get("backendRefs") if isinstance(rule, dict) else None
        names = (
            [r.get("name") for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
        )
        if service in names and isinstance(metadata.get("name"), str):
            return str(metadata["name"])
    return None


def project_directories(d: Detection) -> list[str]:
    return [project.directory for project in (d.node, d.python) if project is not None]


def offer(d: Detection) -> str:
    """The question that offers the canary."""
    library = find_library(d.root, project_directories(d), [])
    return (
        f"Prometheus URL to judge a canary release of production by: {STEP}% of the traffic "
        f"for 10 minutes, error rate and p95 latency from {library.name} (empty: no canary)"
    )


def build_canary(d: Detection, prometheus: str, deployment: str, notes: list[str]) -> CanaryAnswers:
    """The canary offered, judged by ``prometheus``; by the HTTPRoute that sends to the
    Deployment's Service when there is one, else by replicas."""
    library = find_library(d.root, project_directories(d), notes)
    route = find_route(d.root, deployment, notes)
    if route is None:
        replicas = next((x.replicas for x in d.deployments if x.name == deployment), None)
        problem = replica_refusal(STEP, replicas) if replicas is not None else ""
        if problem:
            notes.append(
                f"canary: Deployment {deployment!r} has {replicas} replica(s): {problem}. "
                "Raise its replicas, or set canary.traffic: gateway and canary.route."
            )
    return CanaryAnswers(
        prometheus=prometheus,
        library=library.name,
        traffic="gateway" if route else "replicas",
        route=route,
        metrics=queries(library),
    )
