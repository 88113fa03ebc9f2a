"""The registry a repository's manifests already pull its image from, when `cdgen init` can
write a complete login for it without asking: an Amazon ECR registry (the push role is one
the printed commands create) or Docker Hub (secrets the printed commands set). Any other
cloud registry needs identifiers only its console knows, so init keeps ghcr.io and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdgen import rules
from cdgen.cloud import DOCKER_HUB, AwsRole, Login, SecretLogin, ecr_region, registry_account

# Registries whose login needs identifiers init cannot derive (a project number, Entra IDs).
_BY_HAND = (
    (re.compile(r"-docker\.pkg\.dev$|(^|\.)gcr\.io$"), "Artifact Registry", "image.login.gcp"),
    (re.compile(r"\.azurecr\.io$"), "Azure Container Registry", "image.login.azure"),
)
ROLE_NAME_LIMIT = 64  # an IAM role name's length limit
HUB_SECRETS = ("DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN")


@dataclass(frozen=True)
class Registry:
    host: str
    repository: str
    login: Login


def split_image(image: str) -> tuple[str, str]:
    """(registry host, repository path) of an image reference, tag and digest dropped;
    a reference without a host is Docker Hub's."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host = DOCKER_HUB if first in ("index.docker.io", "registry-1.docker.io") else first
        return host, rest
    return DOCKER_HUB, name


def detect_registry(image: str | None, service: str) -> tuple[Registry | None, str | None]:
    """The registry to write for the image a manifest runs, or a note when init keeps
    ghcr.io in place of a registry it recognizes but cannot log in to by itself."""
    host, repository = split_image((image or "").lower())
    if not (rules.is_valid("registry", host) and rules.is_valid("image-repository", repository)):
        return None, None
    login: Login | None = _ecr_login(host, service)
    if login is None and host == DOCKER_HUB and repository.endswith("/" + service):
        login = SecretLogin(*HUB_SECRETS) if repository.count("/") == 1 else None
    if login is not None:
        return Registry(host, repository, login), None
    for pattern, what, key in _BY_HAND:
        if pattern.search(host):
            return None, (
                f"The manifests run {image}, from {what}: cdgen.yml keeps ghcr.io; to push "
                f"there, set image.registry, image.repository and {key} (README: Registries "
                "and clusters in the cloud)."
            )
    return None, None


def _ecr_login(host: str, service: str) -> AwsRole | None:
    """The push role in an ECR registry's account (created by the printed commands)."""
    account, region = registry_account(host), ecr_region(host)
    if not (account and region and rules.is_valid("aws-region", region)):
        return None
    name = f"cdgen-{service}"[: ROLE_NAME_LIMIT - len("-push")] + "-push"
    partition = "aws-cn" if host.endswith(".cn") else "aws"
    role = f"arn:{partition}:iam::{account}:role/{name}"
    return AwsRole(role, region) if rules.is_valid("aws-role", role) else None
