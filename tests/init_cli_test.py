"""`cdgen init` end to end in real repositories, prompts answered through CliRunner."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.init_repos import git_init, make_node_service, make_python_service, write
from support.service_repos import make_microservices
from typer.testing import CliRunner

from cdgen.cli import app, main

runner = CliRunner()


def generated(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / ".github").rglob("*.yml"))


EXPECTED = [
    ".github/dependabot.yml",
    ".github/workflows/cd.yml",
    ".github/workflows/cdgen.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/metrics.yml",
    ".github/workflows/rollback.yml",
]


def test_init_node_service_with_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_node_service(tmp_path / "api")
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["init", "--yes"])
    assert result.exit_code == 0, result.output
    descriptor = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    assert descriptor["name"] == "api"
    assert descriptor["image"]["test"] == "npm test"
    staging = descriptor["environments"][0]
    assert staging["kubernetes"]["deployment"] == "api"
    assert staging["e2e"]["run"] == "npm run test:e2e"
    assert (root / "cdgen.yml").read_text().startswith("# yaml-language-server: $schema=")
    assert generated(root) == EXPECTED
    assert "gh secret set KUBE_CONFIG --env staging --repo Acme/Api" in result.output
    assert main(["check"]) == 0


def test_init_python_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_python_service(tmp_path / "billing")
    result = runner.invoke(app, ["init", str(root), "--yes"])
    assert result.exit_code == 0, result.output
    descriptor = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    assert descriptor["image"]["dockerfile"] == "docker/Dockerfile"
    assert descriptor["image"]["test"] == "python -m pytest"
    assert generated(root) == EXPECTED


def test_init_without_dockerfile_explains(tmp_path: Path) -> None:
    git_init(tmp_path / "bare", "https://github.com/acme/bare.git")
    result = runner.invoke(app, ["init", str(tmp_path / "bare"), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Dockerfile" in result.output
    assert "warning:" in result.output


def test_init_empty_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    assert generated(tmp_path) == EXPECTED


def test_second_init_refuses_and_force_replaces(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path), "--yes"]).exit_code == 0
    (tmp_path / "cdgen.yml").write_text("# mine\n" + (tmp_path / "cdgen.yml").read_text())
    assert main(["init", str(tmp_path), "--yes"]) == 1
    assert (tmp_path / "cdgen.yml").read_text().startswith("# mine\n")
    assert main(["init", str(tmp_path), "--yes", "--force"]) == 0
    assert not (tmp_path / "cdgen.yml").read_text().startswith("# mine\n")


def test_prompts_take_answers_and_reask_on_invalid_ones(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    answers = [
        "Shop Front",  # invalid service name: asked again
        "shop-front",
        "",  # branch: default
        "make test",  # image test
        "",  # deployment: the service name
        "shop-staging",
        "https://staging.shop.example.com",
        "shop",
        "https://shop.example.com",
        "/healthz",
        "",  # no e2e
        "manual",
        "maybe",  # attest: asked again
        "no",  # a private repository off GitHub Enterprise Cloud
        "",  # no canary
    ]
    result = runner.invoke(app, ["init", str(tmp_path)], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Shop Front\n  must be a DNS-1123 label" in result.output
    assert "maybe\n  must be yes or no" in result.output
    descriptor = YAML(typ="safe").load((tmp_path / "cdgen.yml").read_text())
    assert descriptor["name"] == "shop-front"
    assert descriptor["image"]["test"] == "make test"
    staging, production = descriptor["environments"]
    assert staging["kubernetes"]["namespace"] == "shop-staging"
    assert staging["url"] == "https://staging.shop.example.com"
    assert staging["smoke"]["path"] == "/healthz"
    assert "e2e" not in staging
    assert production["approval"] == "manual"
    assert descriptor["image"]["attest"] is False
    cd = (tmp_path / ".github/workflows/cd.yml").read_text()
    assert "promote-to:" in cd
    assert "attest-build-provenance" not in cd


def test_init_refuses_to_overwrite_a_workflow_it_did_not_write(tmp_path: Path) -> None:
    ci = tmp_path / ".github/workflows/ci.yml"
    ci.parent.mkdir(parents=True)
    ci.write_text("name: ours\n")
    assert main(["init", str(tmp_path), "--yes"]) == 1
    assert ci.read_text() == "name: ours\n"
    assert not (tmp_path / "cdgen.yml").exists()


def test_init_takes_the_deployment_running_this_repository_s_image(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    write(tmp_path, "Dockerfile", "FROM scratch\n")
    write(
        tmp_path,
        "deploy/backend.yaml",
        "kind: Deployment\nmetadata: {name: backend}\n"
        "spec: {template: {spec: {containers: [{name: backend, image: ghcr.io/acme/api}]}}}\n",
    )
    write(
        tmp_path,
        "kustomize/base/shop.yaml",
        "kind: Deployment\nmetadata: {name: storefront, namespace: shop}\nspec:\n"
        "  template:\n    spec:\n      containers:\n"
        "        - {name: proxy, image: envoyproxy/envoy:v1.30}\n"
        "        - name: web\n          image: ghcr.io/acme/shop:latest\n"
        "          readinessProbe: {httpGet: {path: /readyz, port: http}}\n",
    )
    assert main(["init", str(tmp_path), "--yes"]) == 0
    staging = YAML(typ="safe").load((tmp_path / "cdgen.yml").read_text())["environments"][0]
    assert staging["kubernetes"]["deployment"] == "storefront"
    assert staging["kubernetes"]["container"] == "web"
    assert staging["kubernetes"]["namespace"] == "shop"
    assert staging["smoke"]["path"] == "/readyz"


def test_init_with_standard_input_at_its_end_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    for given in ("", "shop\n"):  # no answer at all; the first answer only
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        assert main(["init", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "standard input ended before" in err and "nothing was written" in err
        assert "--yes" in err
        assert sorted(p.name for p in tmp_path.iterdir()) == [".git"]


def test_init_suggests_lf_line_endings_until_gitattributes_asks_for_them(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    result = runner.invoke(app, ["init", str(tmp_path / "a"), "--yes"])
    assert result.exit_code == 0, result.output
    assert "cdgen.yml text eol=lf\n  .github/** text eol=lf" in result.output
    write(tmp_path / "b", ".gitattributes", "* text=auto eol=lf\n")
    result = runner.invoke(app, ["init", str(tmp_path / "b"), "--yes"])
    assert result.exit_code == 0, result.output
    assert ".gitattributes" not in result.output


def test_init_on_a_service_deep_in_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_init(tmp_path, "https://github.com/acme/ledger.git")
    write(
        tmp_path,
        "services/ledger/build/Dockerfile",
        "FROM golang:1.23 AS build\nCOPY . .\nFROM build AS test\nRUN go test ./...\n"
        "FROM gcr.io/distroless/static\n",
    )
    write(tmp_path, "services/ledger/go.mod", "module ledger\n")
    write(
        tmp_path,
        "deploy/k8s/ledger.yaml",
        "kind: Deployment\nmetadata: {name: ledger, namespace: money}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: ledger\n          image: ghcr.io/acme/ledger\n"
        "          readinessProbe: {httpGet: {path: /ready, port: 8080}}\n",
    )
    result = runner.invoke(app, ["init", str(tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "cdgen.yml").read_text()
    descriptor = YAML(typ="safe").load(text)
    assert descriptor["image"]["context"] == "services/ledger"
    assert descriptor["image"]["dockerfile"] == "services/ledger/build/Dockerfile"
    assert "test" not in descriptor["image"]  # go test cannot run in a distroless image
    assert "# test: go test ./...  # services/ledger/go.mod, but" in text
    assert descriptor["image"]["test-stage"] == "test"
    assert "runs the tests; from services/ledger/build/Dockerfile:3" in text
    staging = descriptor["environments"][0]
    assert (staging["kubernetes"]["namespace"], staging["smoke"]["path"]) == ("money", "/ready")
    assert generated(tmp_path) == EXPECTED
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0


def test_init_on_the_microservices_demo_validates_generates_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cdgen.yml init writes for eleven services (two with a Dockerfile test stage, one
    written `AS Test`) is valid, generates, and `cdgen check` finds it current; each test
    stage reaches its service's build."""
    root = make_microservices(tmp_path / "boutique")
    result = runner.invoke(app, ["init", str(root), "--yes"])
    assert result.exit_code == 0, result.output
    assert generated(root) == EXPECTED
    monkeypatch.chdir(root)
    assert main(["validate"]) == 0
    assert main(["check"]) == 0
    services = YAML(typ="safe").load((root / "cdgen.yml").read_text())["services"]
    stages = {s["name"]: s["image"].get("test-stage") for s in services}
    assert {n: s for n, s in stages.items() if s} == {"email": "Test", "shipping": "test"}
    for workflow in ("cd", "ci"):
        text = (root / f".github/workflows/{workflow}.yml").read_text()
        assert '"service": "email"' in text and '"test-stage": "Test"' in text
        assert "target: ${{ matrix.test-stage }}" in text
