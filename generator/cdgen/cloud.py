"""The cloud side of the pipeline model: how the build logs in to its registry, and how a
deploy job reaches its cluster. Every value here passed the schema's patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

_ECR_HOST = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
_ACR_HOST = re.compile(r"^(?P<name>[a-z0-9]{5,50})\.azurecr\.io$")
GITHUB_REGISTRY = "ghcr.io"
DOCKER_HUB = "docker.io"


def ecr_region(registry: str) -> str | None:
    """The region in an Amazon ECR host (ACCOUNT.dkr.ecr.REGION.amazonaws.com), else None."""
    found = _ECR_HOST.match(registry)
    return found["region"] if found else None


@dataclass(frozen=True)
class AwsRole:
    """An IAM role assumed over OIDC (aws-actions/configure-aws-credentials)."""

    kind: ClassVar[str] = "aws"
    role: str
    region: str

    @property
    def account(self) -> str:
        return self.role.split(":")[4]


@dataclass(frozen=True)
class GcpIdentity:
    """A service account impersonated through Workload Identity Federation."""

    kind: ClassVar[str] = "gcp"
    provider: str
    service_account: str


@dataclass(frozen=True)
class AzureIdentity:
    """A Microsoft Entra identity logged in as over OIDC (azure/login)."""

    kind: ClassVar[str] = "azure"
    client_id: str
    tenant_id: str
    subscription_id: str


@dataclass(frozen=True)
class SecretLogin:
    """A user name and a password or token kept in repository secrets."""

    kind: ClassVar[str] = "secrets"
    username_secret: str
    password_secret: str


Login = AwsRole | GcpIdentity | AzureIdentity | SecretLogin


@dataclass(frozen=True)
class Eks:
    kind: ClassVar[str] = "eks"
    cluster: str
    identity: AwsRole  # its region is the cluster's


@dataclass(frozen=True)
class Gke:
    kind: ClassVar[str] = "gke"
    cluster: str
    location: str
    project: str
    identity: GcpIdentity


@dataclass(frozen=True)
class Aks:
    kind: ClassVar[str] = "aks"
    cluster: str
    resource_group: str
    identity: AzureIdentity


Cluster = Eks | Gke | Aks


def registry_account(registry: str) -> str | None:
    """The AWS account of an ECR host: amazon-ecr-login's `registries` (a role may push to
    another account's registry)."""
    found = _ECR_HOST.match(registry)
    return found["account"] if found else None


def acr_name(registry: str) -> str | None:
    """The registry name `az acr login --name` takes, from NAME.azurecr.io."""
    found = _ACR_HOST.match(registry)
    return found["name"] if found else None


def build_login(raw: dict[str, Any] | None) -> Login | None:
    if not raw:
        return None
    if "aws" in raw:
        return AwsRole(str(raw["aws"]["role"]), str(raw["aws"]["region"]))
    if "gcp" in raw:
        return _gcp(raw["gcp"])
    if "azure" in raw:
        return _azure(raw["azure"])
    return SecretLogin(str(raw["username-secret"]), str(raw["password-secret"]))


def build_cluster(raw: dict[str, Any]) -> Cluster | None:
    """The cloud cluster of an environment's `kubernetes`, or None for a kubeconfig secret."""
    if "eks" in raw:
        eks = raw["eks"]
        return Eks(str(eks["cluster"]), AwsRole(str(eks["role"]), str(eks["region"])))
    if "gke" in raw:
        gke = raw["gke"]
        return Gke(str(gke["cluster"]), str(gke["location"]), str(gke["project"]), _gcp(gke))
    if "aks" in raw:
        aks = raw["aks"]
        return Aks(str(aks["cluster"]), str(aks["resource-group"]), _azure(aks))
    return None


def _gcp(raw: dict[str, Any]) -> GcpIdentity:
    return GcpIdentity(str(raw["workload-identity-provider"]), str(raw["service-account"]))


def _azure(raw: dict[str, Any]) -> AzureIdentity:
    return AzureIdentity(str(raw["client-id"]), str(raw["tenant-id"]), str(raw["subscription-id"]))
