"""Detection in multi-service repositories: Dockerfiles anywhere, each paired with the
Deployment container that runs its image, its readiness probe and its test command."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.init_repos import git_init, write
from support.service_repos import SERVICES, make_microservices, make_scattered_services

from cdgen.init.detect import DetectedService, detect_repository
from cdgen.init.dockerfiles import Stage, is_dockerfile, read_stages
from cdgen.init.image_tests import final_stage


def by_name(services: tuple[DetectedService, ...]) -> dict[str, DetectedService]:
    return {s.name: s for s in services}


def test_every_service_of_the_demo_is_found_with_its_deployment(tmp_path: Path) -> None:
    d = detect_repository(make_microservices(tmp_path / "boutique"))

    assert d.dockerfile is None  # no single image: the services form
    found = {
        s.name: (s.dockerfile.path, s.dockerfile.context, s.pairing and s.pairing.deployment.name)
        for s in d.services
    }
    assert found == {
        service.name: (
            f"src/{service.name}/{service.dockerfile}",
            f"src/{service.name}/{service.dockerfile}".rsplit("/", 1)[0],
            service.deployment,
        )
        for service in SERVICES
    }
    # The Deployment comes from the service's own manifest, not from the release file.
    catalog = by_name(d.services)["productcatalog"].pairing
    assert catalog is not None
    assert (catalog.deployment.file, catalog.container.name) == (
        "kubernetes-manifests/catalog.yaml",
        "server",
    )
    assert catalog.reason == "its image is productcatalog"
    # Hidden, vendored and dependency folders are never searched; docs are no service.
    seen = [n for n in d.notes if "Dockerfile" in n]
    assert seen == [
        "docs/Dockerfile: not a service in cdgen.yml (no Deployment runs its image, none is "
        "named 'docs'); add it to services: by hand if it is one."
    ]


def test_readiness_probes_of_each_container(tmp_path: Path) -> None:
    services = by_name(detect_repository(make_microservices(tmp_path / "b")).services)

    probes = {
        name: (s.pairing.container.probe_kind, s.pairing.container.probe_path)
        for name, s in services.items()
        if s.pairing is not None
    }
    assert probes["frontend"] == ("httpGet", "/_healthz")
    assert probes["currency"] == ("httpGet", "/ready")
    assert probes["shipping"] == ("httpGet", "/healthz")
    assert probes["cartservice"] == ("grpc", None)
    assert probes["loadgenerator"] == (None, None)


def test_test_commands_in_every_language(tmp_path: Path) -> None:
    services = by_name(detect_repository(make_microservices(tmp_path / "b")).services)

    tests = {
        name: (s.test.command, s.test.source, s.test.blocked is None) if s.test else None
        for name, s in services.items()
    }
    assert tests == {
        "ad": ("./gradlew test", "src/ad/build.gradle", False),  # a JRE has no JDK
        "cartservice": None,  # .NET: not detected
        "checkout": ("mvn -B test", "src/checkout/pom.xml", True),  # built FROM maven
        "currency": ("npm test", "src/currency/package.json scripts.test", True),
        "email": ("python -m pytest", "src/email/tests/", True),
        "frontend": ("go test ./...", "src/frontend/go.mod", False),
        "loadgenerator": None,
        "payment": None,  # npm's placeholder script is no test
        "productcatalog": ("go test ./...", "src/productcatalog/go.mod", False),
        "recommendation": None,
        "shipping": ("cargo test", "src/shipping/Cargo.toml", False),
    }
    frontend = services["frontend"].test
    assert frontend is not None
    assert frontend.blocked == (
        "the image's last stage (src/frontend/Dockerfile:7: FROM alpine:3.20) has no Go toolchain"
    )
    assert frontend.usable is None


def test_a_stage_named_test_is_found_whatever_its_case(tmp_path: Path) -> None:
    services = by_name(detect_repository(make_microservices(tmp_path / "b")).services)

    stages = {name: s.dockerfile.test_stage for name, s in services.items()}
    assert stages["email"] == Stage(line=7, base="base", name="Test")  # as written
    assert stages["shipping"] == Stage(line=6, base="build", name="test")
    assert [n for n, stage in stages.items() if stage] == ["email", "shipping"]


def test_deployments_in_several_folders_pair_by_image_name_and_variant(tmp_path: Path) -> None:
    d = detect_repository(make_scattered_services(tmp_path / "platform"))

    paired = {
        s.name: (
            s.dockerfile.path,
            s.dockerfile.context,
            s.pairing.deployment.name if s.pairing else None,
            s.pairing.container.name if s.pairing else None,
            s.pairing.reason if s.pairing else None,
        )
        for s in d.services
    }
    assert paired == {
        "platform": (
            "Dockerfile",
            ".",
            "platform",
            "main",
            "its image is ghcr.io/acme/platform:1.0",
        ),
        "reports": ("Dockerfile.reports", ".", "reports", "main", "it is named like the service"),
        "api": (
            "services/api/Dockerfile",
            "services/api",
            "api-server",
            "main",
            "its image is ghcr.io/acme/platform/api:1.2",
        ),
        "web": (
            "services/web/docker/Dockerfile",  # docker/ is tooling: the context is above it
            "services/web",
            "web",
            "main",
            "its image is registry.example.com/acme/web",
        ),
    }
    assert "platform: built from Dockerfile; also found Dockerfile.dev." in d.notes
    assert [n.split(":")[0] for n in d.notes if "not a service" in n] == [
        "tests/e2e/Dockerfile",
        "tools/migrate/Dockerfile",
    ]


def test_without_deployments_every_dockerfile_outside_tests_is_a_service(tmp_path: Path) -> None:
    write(tmp_path, "api/Dockerfile", "FROM golang:1.23\n")
    write(tmp_path, "api/go.mod", "module api\n")
    write(tmp_path, "web/Containerfile", "FROM node:22\n")
    write(tmp_path, "web/tests/fixtures/Dockerfile", "FROM scratch\n")

    d = detect_repository(tmp_path)

    assert [(s.name, s.dockerfile.path, s.pairing) for s in d.services] == [
        ("api", "api/Dockerfile", None),
        ("web", "web/Containerfile", None),
    ]
    api = d.services[0].test
    assert api is not None
    assert (api.command, api.usable) == ("go test ./...", "go test ./...")  # FROM golang
    assert any(n.startswith("web/tests/fixtures/Dockerfile: not a service") for n in d.notes)


def test_one_dockerfile_deep_in_the_tree_is_the_single_service(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    write(tmp_path, "services/shop/build/Dockerfile", "FROM rust:1.80\n")
    write(tmp_path, "services/shop/Cargo.toml", "[package]\n")
    write(tmp_path, "examples/demo/Dockerfile", "FROM scratch\n")
    write(tmp_path, ".devcontainer/Dockerfile", "FROM scratch\n")

    d = detect_repository(tmp_path)

    assert d.services == ()
    assert d.dockerfile is not None
    assert (d.dockerfile.path, d.dockerfile.context) == (
        "services/shop/build/Dockerfile",
        "services/shop",
    )
    assert d.test_command == "cargo test"  # the image is built FROM rust: cargo is there
    assert not any("Several Dockerfiles" in n for n in d.notes)


def test_only_dockerfiles_kept_with_tests_are_no_service(tmp_path: Path) -> None:
    write(tmp_path, "test/Dockerfile", "FROM scratch\n")

    d = detect_repository(tmp_path)

    assert d.dockerfile is None
    assert any(
        n.startswith(
            "No Dockerfile found outside tests, examples and docs (found: test/Dockerfile)"
        )
        for n in d.notes
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pom.xml": "", "mvnw": ""}, "./mvnw -B test"),
        ({"pom.xml": ""}, "mvn -B test"),
        ({"build.gradle.kts": ""}, "gradle test"),
        ({"build.gradle": "", "gradlew": ""}, "./gradlew test"),
        ({"go.mod": "", "Cargo.toml": ""}, "go test ./..."),
    ],
)
def test_build_tools_and_their_wrappers(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    write(tmp_path, "Dockerfile", "FROM eclipse-temurin:21\nCOPY . .\n")
    for name, text in files.items():
        write(tmp_path, name, text)

    d = detect_repository(tmp_path)

    assert d.test is not None
    assert d.test.command == expected
    # Only a wrapper runs on a plain JDK; mvn, gradle and go need their own images.
    assert (d.test.blocked is None) == expected.startswith("./")


def test_dockerfile_stages_are_read_like_docker_reads_them() -> None:
    text = (
        "# FROM commented:out AS test\n"
        "FROM --platform=$BUILDPLATFORM golang:1.23 \\\n"
        "    AS build\n"
        "from build as TEST\n"
        "RUN echo FROM nothing\n"
        "FROM build\n"
    )

    stages = read_stages(text)

    assert stages == (
        Stage(line=2, base="golang:1.23", name="build"),
        Stage(line=4, base="build", name="TEST"),  # as written; compared in any case
        Stage(line=6, base="build", name=None),
    )
    # The image's base: the last stage, followed back through the stages it starts from.
    assert final_stage(stages) == Stage(line=2, base="golang:1.23", name="build")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.prod", True),
        ("worker.Dockerfile", True),
        ("api.dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("Dockerfile.md", False),
        ("Dockerfile.j2", False),
        ("dockerfile-lint.yml", False),
        (".dockerignore", False),
    ],
)
def test_what_counts_as_a_dockerfile(name: str, expected: bool) -> None:
    assert is_dockerfile(name) is expected


def test_the_walk_stops_at_its_depth(tmp_path: Path) -> None:
    write(tmp_path, "a/b/c/d/e/f/Dockerfile", "FROM scratch\n")  # six folders deep: seen
    write(tmp_path, "a/b/c/d/e/f/g/Dockerfile", "FROM scratch\n")  # seven: not looked at

    d = detect_repository(tmp_path)

    assert d.dockerfile is not None
    assert d.dockerfile.path == "a/b/c/d/e/f/Dockerfile"
    assert not any("a/b/c/d/e/f/g" in n for n in d.notes)


def test_two_folders_named_alike_are_two_services(tmp_path: Path) -> None:
    """`apps/cart` and `legacy/cart` each build an image: neither is a variant of the other."""
    write(tmp_path, "apps/cart/Dockerfile", "FROM golang:1.23\n")
    write(tmp_path, "apps/cart/Dockerfile.dev", "FROM golang:1.23\n")  # a variant: same folder
    write(tmp_path, "legacy/cart/Dockerfile", "FROM node:22\n")
    write(tmp_path, "web/Dockerfile", "FROM node:22\n")
    write(tmp_path, "old/2019/cart/Dockerfile", "FROM node:22\n")  # a name starts with a letter

    d = detect_repository(tmp_path)

    found = sorted((s.name, s.dockerfile.path, s.dockerfile.context) for s in d.services)
    assert found == [
        ("cart", "apps/cart/Dockerfile", "apps/cart"),
        ("legacy-cart", "legacy/cart/Dockerfile", "legacy/cart"),
        ("service-2019-cart", "old/2019/cart/Dockerfile", "old/2019/cart"),
        ("web", "web/Dockerfile", "web"),
    ]


def test_a_huge_folder_does_not_hide_the_services_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk's folder budget goes to the shallow folders first: a data folder with more
    subfolders than the budget (sorted first) does not hide `services/` next to it."""
    monkeypatch.setattr("cdgen.init.tree.MAX_FOLDERS", 50)
    for index in range(60):
        (tmp_path / "assets" / f"{index:02d}").mkdir(parents=True)
    write(tmp_path, "services/cart/Dockerfile", "FROM golang:1.23\n")
    write(tmp_path, "services/web/Dockerfile", "FROM node:22\n")

    d = detect_repository(tmp_path)

    assert sorted(s.dockerfile.path for s in d.services) == [
        "services/cart/Dockerfile",
        "services/web/Dockerfile",
    ]
    assert "Dockerfiles were looked for in the first 50 folders only." in d.notes
    assert not any("looked in every folder" in n for n in d.notes)


def test_a_walk_cut_short_does_not_claim_it_looked_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cdgen.init.tree.MAX_FOLDERS", 5)
    for index in range(10):
        (tmp_path / f"{index:02d}").mkdir()

    notes = detect_repository(tmp_path).notes

    assert "Dockerfiles were looked for in the first 5 folders only." in notes
    assert any(n.startswith("No Dockerfile found in the folders looked at.") for n in notes)
    assert not any("looked in every folder" in n for n in notes)


def test_a_templated_document_does_not_hide_the_plain_ones_beside_it(tmp_path: Path) -> None:
    """One file, several documents: a Helm-templated one is skipped, the plain Deployment
    before it (whose image names its registry's port and a digest) is still paired."""
    digest = "sha256:" + "0" * 64
    write(tmp_path, "cart/Dockerfile", "FROM golang:1.23\n")
    write(tmp_path, "web/Dockerfile", "FROM node:22\n")
    write(
        tmp_path,
        "k8s/all.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: server\n"
        f"          image: localhost:5000/cart@{digest}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-{{ .Values.x }}}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - {name: web, image: web:1}\n",
    )

    d = detect_repository(tmp_path)

    paired = {
        s.name: (s.pairing.deployment.name, s.pairing.container.name)
        for s in d.services
        if s.pairing
    }
    assert paired == {"cart": ("cart", "server"), "web": ("web", "web")}
    assert any(
        n.startswith(
            "Skipped 1 templated manifest document(s) (Helm or similar), e.g. k8s/all.yaml"
        )
        for n in d.notes
    )
