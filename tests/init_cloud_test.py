"""`cdgen init` on a repository whose manifests already run the image from another registry:
ECR and Docker Hub are written with a complete login (and the commands that make it true are
printed); Artifact Registry and ACR keep ghcr.io with a note saying what to set."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.init_repos import NODE_MANIFEST, make_node_service, write
from typer.testing import CliRunner

from cdgen.cli import app, main
from cdgen.cloud import AwsRole, SecretLogin
from cdgen.init.registry import detect_registry, split_image

runner = CliRunner()
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def _init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    root = make_node_service(tmp_path / "api")
    write(root, "k8s/app.yaml", NODE_MANIFEST.replace("ghcr.io/acme/api:latest", image))
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["init", "--yes"])
    assert result.exit_code == 0, result.output
    assert main(["check"]) == 0  # what init wrote is valid and generated
    return YAML(typ="safe").load((root / "cdgen.yml").read_text()), result.output


def test_an_ecr_image_gets_the_push_role_the_printed_commands_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    descriptor, output = _init(tmp_path, monkeypatch, f"{ECR}/acme/api:1.4.2")
    image = descriptor["image"]
    assert (image["registry"], image["repository"]) == (ECR, "acme/api")
    role = "arn:aws:iam::123456789012:role/cdgen-api-push"
    assert image["login"] == {"aws": {"role": role, "region": "eu-west-1"}}
    access = output.split("Registry and cluster access", 1)[1]
    assert "REPO=Acme/Api" in access
    assert "aws iam create-role --role-name cdgen-api-push" in access
    assert "repository/acme/api" in access
    assert "2. the cluster can pull " + ECR + "/acme/api: see Registry and cluster access" in output
    assert "ghcr-pull" not in output


def test_a_docker_hub_image_gets_the_secrets_the_printed_commands_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    descriptor, output = _init(tmp_path, monkeypatch, "acmeinc/api:2")
    assert descriptor["image"]["registry"] == "docker.io"
    assert descriptor["image"]["login"] == {
        "username-secret": "DOCKERHUB_USERNAME",
        "password-secret": "DOCKERHUB_TOKEN",
    }
    assert "gh secret set DOCKERHUB_TOKEN --repo Acme/Api" in output
    assert "gh api" not in output.split("Registry and cluster access", 1)[1]  # no OIDC


def test_artifact_registry_keeps_ghcr_and_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    descriptor, output = _init(
        tmp_path, monkeypatch, "europe-west1-docker.pkg.dev/acme-ci/containers/api:3"
    )
    assert descriptor["image"]["registry"] == "ghcr.io" and "login" not in descriptor["image"]
    assert "from Artifact Registry: cdgen.yml keeps ghcr.io" in output
    assert "image.login.gcp" in output
    assert "Registry and cluster access" not in output


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx:1.27", ("docker.io", "nginx")),
        ("acme/api@sha256:" + "a" * 64, ("docker.io", "acme/api")),
        ("registry.example.com:5000/team/api:v1", ("registry.example.com:5000", "team/api")),
        ("localhost/api", ("localhost", "api")),
        ("index.docker.io/acme/api:1", ("docker.io", "acme/api")),
        (f"{ECR}/a/b/c:1", (ECR, "a/b/c")),
    ],
)
def test_an_image_reference_splits_into_registry_and_repository(
    image: str, expected: tuple[str, str]
) -> None:
    assert split_image(image) == expected


def test_only_images_init_can_log_in_to_by_itself_become_the_registry() -> None:
    registry, note = detect_registry(f"{ECR.replace('eu-west-1', 'cn-north-1')}.cn/api", "api")
    assert registry is not None and note is None
    assert registry.login == AwsRole(
        "arn:aws-cn:iam::123456789012:role/cdgen-api-push", "cn-north-1"
    )
    long_name = "a" * 63
    registry, _ = detect_registry(f"{ECR}/x", long_name)
    assert registry is not None and isinstance(registry.login, AwsRole)
    assert len(registry.login.role.rsplit("/", 1)[1]) == 64
    hub, _ = detect_registry("acmeinc/api", "api")
    assert hub is not None and hub.login == SecretLogin("DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN")
    assert detect_registry("fluent/fluent-bit:3", "api") == (None, None)  # not this service
    assert detect_registry("acme/team/api", "api") == (None, None)  # not NAMESPACE/NAME
    assert detect_registry("ghcr.io/acme/api", "api") == (None, None)
    assert detect_registry(None, "api") == (None, None)
    assert detect_registry("Not An Image!", "api") == (None, None)
    _, note = detect_registry("acmeprod.azurecr.io/api:1", "api")
    assert note is not None and "image.login.azure" in note
