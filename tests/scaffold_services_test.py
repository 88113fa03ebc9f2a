"""The cdgen.yml `cdgen init` writes for a repository of several services: the `services:`
form, each guess beside its source.

The form's keys are the ones the descriptor's `services:` reference lists (docs/descriptor.md
of the services work): `SHAPE` below holds them, and every written key must be among them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from support.init_repos import git_init, write
from support.service_repos import make_microservices, make_scattered_services

from cdgen.init.answers import answers_from_detection, questions
from cdgen.init.detect import detect_repository
from cdgen.init.github_setup import first_deploy_steps, setup_commands
from cdgen.init.scaffold import render_descriptor
from cdgen.init.service_answers import service_label

SHAPE = {
    "": {"version", "name", "branch", "image", "services", "environments", "action", "metrics"},
    "image": {"registry", "login", "repository", "attest", "tag-latest"},
    "service": {"name", "image", "paths", "kubernetes", "smoke", "environments"},
    "service.image": {
        "repository",
        "context",
        "dockerfile",
        "platforms",
        "test",
        "test-shell",
        "test-stage",
    },
    "service.kubernetes": {"deployment", "container"},
    "service.smoke": {"path"},
    "environment.kubernetes": {"kubeconfig-secret", "namespace", "rollout-timeout", "runs-on"},
}


def assert_services_shape(doc: Any) -> None:
    assert set(doc) <= SHAPE[""]
    assert set(doc["image"]) <= SHAPE["image"]
    for service in doc["services"]:
        assert set(service) <= SHAPE["service"], service["name"]
        for key in ("image", "kubernetes", "smoke"):
            assert set(service.get(key, {})) <= SHAPE[f"service.{key}"], service["name"]
    for environment in doc["environments"]:
        assert set(environment["kubernetes"]) <= SHAPE["environment.kubernetes"]


def descriptor(root: Path) -> tuple[str, Any]:
    text = render_descriptor(answers_from_detection(detect_repository(root)))
    return text, YAML(typ="safe").load(text)


def line_of(text: str, start: str) -> str:
    [line] = [x.strip() for x in text.splitlines() if x.strip().startswith(start)]
    return line


def test_the_demo_becomes_the_services_form(tmp_path: Path) -> None:
    _, doc = descriptor(make_microservices(tmp_path / "boutique"))

    assert_services_shape(doc)
    assert (doc["name"], doc["image"]) == (
        "boutique",
        {"registry": "ghcr.io", "repository": "acme/boutique", "tag-latest": True, "attest": True},
    )
    services = {s["name"]: s for s in doc["services"]}
    assert list(services) == sorted(services)
    assert len(services) == 11
    assert services["productcatalog"] == {
        "name": "productcatalog",
        "image": {"context": "src/productcatalog"},  # go test cannot run in its image
        "kubernetes": {"deployment": "catalog", "container": "server"},
    }
    assert services["frontend"]["smoke"] == {"path": "/_healthz"}
    assert services["currency"] == {
        "name": "currency",
        "image": {"context": "src/currency", "test": "npm test"},
        "kubernetes": {"deployment": "currency", "container": "server"},
        "smoke": {"path": "/ready"},
    }
    assert services["checkout"]["image"]["test"] == "mvn -B test"
    # A Dockerfile stage named test, whatever its case, as written; beside a test command.
    assert services["email"]["image"] == {
        "context": "src/email",
        "test": "python -m pytest",
        "test-stage": "Test",
    }
    assert services["shipping"]["image"] == {"context": "src/shipping", "test-stage": "test"}
    assert [n for n, s in services.items() if "test-stage" in s["image"]] == ["email", "shipping"]
    assert services["cartservice"]["image"] == {"context": "src/cartservice/src"}
    for environment in doc["environments"]:
        assert set(environment["kubernetes"]) == {
            "kubeconfig-secret",
            "namespace",
            "rollout-timeout",
        }
        assert environment["smoke"]["path"] == "/health"  # for services without an HTTP probe


def test_every_guess_of_a_service_is_commented_with_its_source(tmp_path: Path) -> None:
    text, _ = descriptor(make_microservices(tmp_path / "boutique"))

    assert line_of(text, "- name: productcatalog") == (
        "- name: productcatalog  # built from src/productcatalog/Dockerfile"
    )
    assert line_of(text, "deployment: catalog") == (
        "deployment: catalog  # from kubernetes-manifests/catalog.yaml: its image is productcatalog"
    )
    assert line_of(text, "path: /_healthz") == (
        "path: /_healthz  # from the readiness probe of container server"
    )
    assert line_of(text, "test: mvn -B test") == "test: mvn -B test  # from src/checkout/pom.xml"
    assert line_of(text, "test: python -m pytest") == (
        "test: python -m pytest  # from src/email/tests/"
    )
    assert line_of(text, "test-stage: Test") == "test-stage: Test  # from src/email/Dockerfile:7"
    assert line_of(text, "test-stage: test") == (
        "test-stage: test  # from src/shipping/Dockerfile:6"
    )
    # Found but not written: a command the image cannot run, a gRPC probe.
    assert line_of(text, "# test: go test ./...  # src/frontend/") == (
        "# test: go test ./...  # src/frontend/go.mod, but the image's last stage "
        "(src/frontend/Dockerfile:7: FROM alpine:3.20) has no Go toolchain"
    )
    assert "stage named test" not in text  # written as test-stage, no longer a remark
    assert text.count("# test: …  # no test command found") == 4  # cart, load, payment, reco
    grpc = "its readiness probe is grpc, not HTTP: smoke-tested at the environment's url"
    assert text.count(grpc) == 7
    assert "no readiness probe: smoke-tested" in text  # loadgenerator


def test_the_services_form_survives_a_round_trip_and_is_deterministic(tmp_path: Path) -> None:
    root = make_microservices(tmp_path / "boutique")
    text, _ = descriptor(root)

    assert descriptor(root)[0] == text
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(yaml.load(text), stream)
    assert stream.getvalue() == text


def test_deployments_in_several_folders(tmp_path: Path) -> None:
    text, doc = descriptor(make_scattered_services(tmp_path / "platform"))

    assert_services_shape(doc)
    services = {s["name"]: s for s in doc["services"]}
    assert services["platform"]["paths"] == ["."]
    assert services["reports"]["image"] == {
        "context": ".",
        "dockerfile": "Dockerfile.reports",
        "test": "python -m pytest",
    }
    assert services["web"]["image"]["dockerfile"] == "services/web/docker/Dockerfile"
    assert services["api"]["kubernetes"] == {"deployment": "api-server", "container": "main"}
    assert services["web"]["smoke"] == {"path": "/"}
    staging, production = doc["environments"]
    assert (staging["kubernetes"]["namespace"], production["kubernetes"]["namespace"]) == (
        "web-staging",
        "web-production",
    )
    assert line_of(text, "namespace: web-staging") == (
        "namespace: web-staging  # from deploy/overlays/staging/web.yaml"
    )
    assert (
        text.count("paths: [.]  # its context is the repository root: every change rebuilds it")
        == 2
    )
    notes = answers_from_detection(detect_repository(tmp_path / "platform")).notes
    assert any(
        n.startswith("staging: the services' Deployments name different namespaces (api in none")
        for n in notes
    )


def test_a_dockerfile_in_a_tooling_folder_builds_from_the_root(tmp_path: Path) -> None:
    write(tmp_path, "docker/api.Dockerfile", "FROM scratch\n")
    write(tmp_path, "api/main.go", "package main\n")
    write(tmp_path, "web/Dockerfile", "FROM scratch\n")
    for name in ("api", "web"):
        write(
            tmp_path,
            f"k8s/{name}.yaml",
            f"kind: Deployment\nmetadata: {{name: {name}}}\n"
            f"spec: {{template: {{spec: {{containers: [{{name: {name}, image: {name}}}]}}}}}}\n",
        )

    _, doc = descriptor(tmp_path)

    api = doc["services"][0]
    # docker/ is tooling: the context is the root, so every change rebuilds it.
    assert (api["name"], api["image"]["context"], api["paths"]) == ("api", ".", ["."])
    assert api["image"]["dockerfile"] == "docker/api.Dockerfile"


def test_questions_of_the_services_form(tmp_path: Path) -> None:
    d = detect_repository(make_microservices(tmp_path / "boutique"))

    asked = questions(d)

    assert [q.key for q in asked] == [
        "name",
        "branch",
        "environments.staging.namespace",
        "environments.staging.url",
        "environments.production.namespace",
        "environments.production.url",
        "smoke.path",
        "environments.staging.e2e",
        "environments.production.approval",
        "image.attest",
    ]
    assert asked[0].prompt.startswith("Project name")
    answers = answers_from_detection(d, {"name": "shop", "environments.staging.namespace": "demo"})
    text = render_descriptor(answers)
    assert (
        line_of(text, "name: shop")
        == "name: shop  # the project; each service names its own Deployment"
    )
    assert line_of(text, "namespace: demo") == "namespace: demo"


def test_services_on_one_ecr_registry_share_its_login(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    for name, image in (("cart", "shop/cart:3"), ("web", "shop/storefront:1")):
        write(tmp_path, f"{name}/Dockerfile", "FROM scratch\n")
        write(
            tmp_path,
            f"k8s/{name}.yaml",
            f"kind: Deployment\nmetadata: {{name: {name}}}\n"
            f"spec: {{template: {{spec: {{containers: [{{name: app, image: {ecr}/{image}}}]}}}}}}\n",
        )

    _, doc = descriptor(tmp_path)

    assert doc["image"] == {
        "registry": ecr,
        "login": {
            "aws": {"role": "arn:aws:iam::123456789012:role/cdgen-shop-push", "region": "eu-west-1"}
        },
        "repository": "shop",
        "tag-latest": True,
        "attest": True,
    }
    cart, web = doc["services"]
    assert "repository" not in cart["image"]  # shop/cart: <repository>/<name>
    assert web["image"]["repository"] == "shop/storefront"


def test_the_github_settings_name_every_service_s_deployment(tmp_path: Path) -> None:
    answers = answers_from_detection(detect_repository(make_scattered_services(tmp_path / "p")))

    setup = setup_commands(answers)
    steps = first_deploy_steps(answers)

    assert (
        "# kubeconfig-staging.yaml: a kubeconfig allowed to update Deployments api-server, "
        "platform, reports, web in namespace web-staging"
    ) in setup
    assert (
        "kubectl get deployment/api-server deployment/platform deployment/reports "
        "deployment/web --namespace web-staging"
    ) in steps


def test_service_names_start_with_a_letter() -> None:
    assert service_label("2fa-service") == "fa-service"
    assert service_label("Cart_Service") == "cart-service"
    assert service_label("42") == "service"
