"""Every guess of a single-service cdgen.yml is commented with where it came from; a value
the user typed is theirs, with no source; what was found but not written is shown."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML
from support.init_repos import git_init, make_node_service, make_python_service, write

from cdgen.init.answers import answers_from_detection, questions
from cdgen.init.detect import detect_repository
from cdgen.init.scaffold import render_descriptor


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_the_node_service_s_guesses_and_their_sources(tmp_path: Path) -> None:
    text = render_descriptor(
        answers_from_detection(detect_repository(make_node_service(tmp_path / "api")))
    )

    shown = lines(text)
    for expected in (
        "name: api  # service name; the default Deployment and container; from the git remote's name",
        "context: .  # from the Dockerfile's folder",
        "dockerfile: Dockerfile  # from a search of the repository",
        "test: npm test  # runs inside the built image before it is pushed; from package.json scripts.test",
        "namespace: shop  # from k8s/app.yaml",
        "deployment: api  # from k8s/app.yaml: runs ghcr.io/acme/api:latest",
        "run: npm run test:e2e  # from package.json scripts.test:e2e",
        'node-version: "22.11.0"  # sets up Node.js and runs npm ci first; from .nvmrc',
    ):
        assert expected in shown, expected


def test_a_python_service_built_from_a_tooling_folder(tmp_path: Path) -> None:
    text = render_descriptor(
        answers_from_detection(detect_repository(make_python_service(tmp_path / "billing")))
    )

    shown = lines(text)
    assert "context: .  # from the folder above docker/" in shown
    assert (
        "test: python -m pytest  # runs inside the built image before it is pushed; "
        "from pyproject.toml [tool.pytest]"
    ) in shown
    assert "deployment: billing  # from deploy/billing.yml: the first Deployment found" in shown


def test_answers_the_user_typed_carry_no_source(tmp_path: Path) -> None:
    d = detect_repository(make_node_service(tmp_path / "api"))
    answers = answers_from_detection(
        d,
        {
            "name": "shop-api",
            "environments.staging.e2e": "make e2e",
            "environments.production.url": "https://example.com",  # the default: still a guess
        },
    )

    shown = lines(render_descriptor(answers))
    assert "name: shop-api  # service name; the default Deployment and container" in shown
    assert "run: make e2e" in shown
    assert not any("from .nvmrc" in line for line in shown)
    assert "namespace: shop  # from k8s/app.yaml" in shown  # not answered: still sourced


def test_a_readiness_probe_is_the_smoke_path_s_source(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    write(tmp_path, "web/Dockerfile", "FROM node:22\n")
    write(tmp_path, "k8s/a-redis.yaml", _deployment("redis", "redis:7", None))
    write(tmp_path, "k8s/web.yaml", _deployment("web", "ghcr.io/acme/web:1", "/readyz"))

    answers = answers_from_detection(detect_repository(tmp_path))

    # The Dockerfile in web/ pairs with Deployment web, not with the first one found.
    staging = answers.environments[0]
    assert (staging.kubernetes.deployment, staging.smoke.path) == ("web", "/readyz")
    shown = lines(render_descriptor(answers))
    assert "path: /readyz  # from the readiness probe of container app in k8s/web.yaml" in shown


def test_a_go_test_the_image_cannot_run_is_shown_and_asked_for(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Dockerfile",
        "FROM golang:1.23 AS build\nRUN go build\nFROM build AS TEST\nRUN go test ./...\n"
        "FROM gcr.io/distroless/static\n",
    )
    write(tmp_path, "go.mod", "module x\n")

    d = detect_repository(tmp_path)
    text = render_descriptor(answers_from_detection(d))

    assert d.test_command is None
    assert "image.test" in [q.key for q in questions(d)]
    shown = lines(text)
    assert (
        "# test: go test ./...  # go.mod, but the image's last stage "
        "(Dockerfile:5: FROM gcr.io/distroless/static) has no Go toolchain"
    ) in shown
    # The Dockerfile's stage that runs the tests is written, with where it was found.
    assert (
        "test-stage: TEST  # a Dockerfile stage, built before the push: its build runs the "
        "tests; from Dockerfile:3"
    ) in shown
    assert YAML(typ="safe").load(text)["image"]["test-stage"] == "TEST"
    assert not any(line.startswith("# test: npm test") for line in shown)


def test_a_test_command_typed_replaces_the_one_shown(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM rust:1.80 AS build\nFROM debian:12-slim\n")
    write(tmp_path, "Cargo.toml", "[package]\n")

    answers = answers_from_detection(
        detect_repository(tmp_path), {"image.test": "/app --self-test"}
    )

    text = render_descriptor(answers)
    assert answers.image.test == "/app --self-test"
    assert "cargo test" not in text


def _deployment(name: str, image: str, probe: str | None) -> str:
    container: dict[str, object] = {"name": "app", "image": image}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": probe, "port": 80}}
    spec = {"template": {"spec": {"containers": [container]}}}
    return json.dumps({"kind": "Deployment", "metadata": {"name": name}, "spec": spec})
