"""Multi-service repositories for the `cdgen init` tests, built file by file in each test.

`make_microservices` is the layout of a typical microservices demo: eleven services in
several languages, each with `src/<service>/Dockerfile` and its manifest in
`kubernetes-manifests/<service>.yaml`, the same Deployments again (other images) in one
release file, a templated chart, and Dockerfiles that are no service (a dev container,
docs, a vendored dependency). `make_scattered_services` keeps its Deployments in several
folders, named unlike their folders, with variants and tooling folders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from support.init_repos import git_init, write

GO_MULTI_STAGE = """\
# syntax=docker/dockerfile:1
FROM golang:1.23-alpine AS builder
WORKDIR /src
COPY . .
RUN go build -o /server .

FROM alpine:3.20
COPY --from=builder /server /server
ENTRYPOINT ["/server"]
"""
RUST_WITH_TEST_STAGE = """\
FROM rust:1.80 AS build
WORKDIR /src
COPY . .
RUN cargo build --release

FROM build AS test
RUN cargo test

FROM gcr.io/distroless/cc-debian12
COPY --from=build /src/target/release/shipping /shipping
ENTRYPOINT ["/shipping"]
"""
GRADLE_JRE = """\
FROM eclipse-temurin:21 AS builder
WORKDIR /app
COPY . .
RUN ./gradlew installDist

FROM eclipse-temurin:21-jre-alpine
COPY --from=builder /app/build/install/ad /app
ENTRYPOINT ["/app/bin/ad"]
"""
PYTHON_WITH_TEST_STAGE = """\
FROM python:3.12-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

FROM base AS Test
RUN python -m pytest

FROM base
CMD ["python", "email_server.py"]
"""


@dataclass(frozen=True)
class Service:
    """One service of the demo: what its folder holds and how its Deployment runs it."""

    name: str  # its folder under src/
    deployment: str  # the Deployment's name (not always the folder's)
    probe: str  # "http:/path", "grpc" or "" (no readiness probe)
    files: dict[str, str]  # relative to src/<name>/
    dockerfile: str = "Dockerfile"  # relative to src/<name>/


SERVICES = (
    Service("frontend", "frontend", "http:/_healthz", {"go.mod": "module frontend\n"}),
    Service(
        "cartservice",
        "cartservice",
        "grpc",
        {"src/cart.csproj": "<Project/>\n"},
        dockerfile="src/Dockerfile",
    ),
    Service("productcatalog", "catalog", "grpc", {"go.mod": "module catalog\n"}),
    Service(
        "currency",
        "currency",
        "http:/ready",
        {
            "package.json": json.dumps({"name": "currency", "scripts": {"test": "node --test"}}),
        },
    ),
    Service(
        "payment",
        "payment",
        "grpc",
        {
            "package.json": json.dumps(
                {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
            ),
        },
    ),
    Service(
        "email",
        "email",
        "grpc",
        {
            "requirements.txt": "grpcio\n",
            "tests/test_email.py": "def test_x():\n    pass\n",
        },
    ),
    Service("recommendation", "recommendation", "grpc", {"requirements.txt": "grpcio\n"}),
    Service(
        "ad", "ad", "grpc", {"build.gradle": "plugins { id 'java' }\n", "gradlew": "#!/bin/sh\n"}
    ),
    Service(
        "shipping", "shipping", "http:/healthz", {"Cargo.toml": '[package]\nname = "shipping"\n'}
    ),
    Service("checkout", "checkout", "grpc", {"pom.xml": "<project/>\n"}),
    Service("loadgenerator", "loadgenerator", "", {"requirements.txt": "locust\n"}),
)
DOCKERFILES = {
    "frontend": GO_MULTI_STAGE,
    "productcatalog": GO_MULTI_STAGE,
    "shipping": RUST_WITH_TEST_STAGE,
    "ad": GRADLE_JRE,
    "email": PYTHON_WITH_TEST_STAGE,
    "checkout": "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\n",
    "currency": "FROM node:22-alpine\nCOPY . .\n",
    "payment": "FROM node:22-alpine\nCOPY . .\n",
}


def manifest(service: Service, image: str) -> str:
    """A Service and a Deployment, as a demo's manifests write them."""
    probe = ""
    if service.probe.startswith("http:"):
        probe = f"          readinessProbe:\n            httpGet: {{path: {service.probe[5:]}, port: 8080}}\n"
    elif service.probe == "grpc":
        probe = "          readinessProbe:\n            grpc: {port: 9555}\n"
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {service.deployment}\n"
        f"spec:\n  selector: {{app: {service.deployment}}}\n  ports: [{{port: 80}}]\n---\n"
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service.deployment}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: server\n"
        f"          image: {image}\n{probe}"
    )


def make_microservices(root: Path) -> Path:
    git_init(root, "https://github.com/acme/boutique.git")
    release = []
    for service in SERVICES:
        folder = f"src/{service.name}"
        write(
            root, f"{folder}/{service.dockerfile}", DOCKERFILES.get(service.name, "FROM scratch\n")
        )
        for relative, text in service.files.items():
            write(root, f"{folder}/{relative}", text)
        write(
            root, f"kubernetes-manifests/{service.deployment}.yaml", manifest(service, service.name)
        )
        registry = "us-docker.pkg.dev/acme-demo/boutique"
        release.append(manifest(service, f"{registry}/{service.name}:v0.4.0"))
    redis = "kind: Deployment\nmetadata: {name: redis-cart}\n"
    redis += "spec: {template: {spec: {containers: [{name: redis, image: 'redis:alpine'}]}}}\n"
    write(root, "kubernetes-manifests/redis.yaml", redis)
    write(root, "release/kubernetes-manifests.yaml", "---\n".join(release))
    write(
        root,
        "helm-chart/templates/frontend.yaml",
        "kind: Deployment\nmetadata: {name: {{ .Values.name }}}\n",
    )
    write(root, ".devcontainer/Dockerfile", "FROM mcr.microsoft.com/devcontainers/base\n")
    write(root, "docs/Dockerfile", "FROM nginx\n")
    write(root, "src/frontend/vendor/lib/Dockerfile", "FROM scratch\n")
    write(root, "src/payment/node_modules/grpc/Dockerfile", "FROM scratch\n")
    return root


def make_scattered_services(root: Path) -> Path:
    """Deployments in four folders: each service's own, a kustomize tree per environment,
    a shared `deploy/` and `infra/manifests/`; a root Dockerfile and a variant of it."""
    git_init(root, "https://github.com/acme/platform.git")
    write(root, "Dockerfile", "FROM python:3.12-slim\nCOPY . .\n")
    write(root, "pyproject.toml", '[project]\nname = "platform"\n[tool.pytest.ini_options]\n')
    write(root, "Dockerfile.reports", "FROM python:3.12-slim\nCOPY . .\n")
    write(root, "Dockerfile.dev", "FROM python:3.12\n")
    write(root, "services/api/Dockerfile", "FROM golang:1.23\nCOPY . .\n")
    write(root, "services/api/go.mod", "module api\n")
    write(root, "services/web/docker/Dockerfile", "FROM node:22\nCOPY . .\n")
    write(root, "services/web/package.json", json.dumps({"scripts": {"test": "vitest run"}}))
    write(root, "tools/migrate/Dockerfile", "FROM scratch\n")
    write(root, "tests/e2e/Dockerfile", "FROM mcr.microsoft.com/playwright\n")

    def deployment(name: str, image: str, namespace: str | None = None, probe: str = "") -> str:
        meta = f"{{name: {name}, namespace: {namespace}}}" if namespace else f"{{name: {name}}}"
        ready = f", readinessProbe: {{httpGet: {{path: {probe}, port: 80}}}}" if probe else ""
        return (
            f"kind: Deployment\nmetadata: {meta}\nspec: {{template: {{spec: {{containers: "
            f"[{{name: sidecar, image: envoyproxy/envoy:v1.30}}, "
            f"{{name: main, image: '{image}'{ready}}}]}}}}}}\n"
        )

    write(
        root,
        "k8s/platform.yaml",
        deployment("platform", "ghcr.io/acme/platform:1.0", probe="/livez"),
    )
    write(
        root,
        "services/api/k8s/deployment.yaml",
        deployment("api-server", "ghcr.io/acme/platform/api:1.2"),
    )
    for env in ("staging", "production"):
        write(
            root,
            f"deploy/overlays/{env}/web.yaml",
            deployment(
                "web", "registry.example.com/acme/web@sha256:" + "0" * 64, f"web-{env}", "/"
            ),
        )
    write(
        root, "infra/manifests/reports.yml", deployment("reports", "ghcr.io/acme/platform-reports")
    )
    return root
