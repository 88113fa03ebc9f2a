"""The cloud side of a pipeline's logins, as copy-pasteable shell lines: for each OIDC login,
the identity's trust in this repository's GitHub tokens (the branch for the registry, the
environment for a cluster, in both subject formats) and the least it may do; how each
cluster pulls the image. `cdgen init` prints them; the README shows them for examples.
"""

from __future__ import annotations

import json
import shlex

from cdgen.cloud import Aks, AwsRole, AzureIdentity, GcpIdentity, SecretLogin
from cdgen.init.cluster_setup import cluster_commands
from cdgen.init.oidc import (
    aws_trust,
    azure_credentials,
    comment,
    google_principals,
    once,
    preamble,
)
from cdgen.model import Image, Pipeline

# The ECR actions a push, the manifest reads of promotions and rollbacks, and the provenance
# attestation (an OCI referrer pushed like an image) need, on the one repository.
ECR_PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]
# gcr.io hosts are Artifact Registry repositories named after the host, in these locations.
GCR_LOCATIONS = {"gcr.io": "us", "us.gcr.io": "us", "eu.gcr.io": "europe", "asia.gcr.io": "asia"}


def cloud_commands(pipeline: Pipeline, repository: str | None) -> list[str]:
    """Shell lines setting up every cloud identity and pull access the descriptor relies on;
    empty when it uses none (ghcr.io and kubeconfig secrets)."""
    image = pipeline.image
    clusters = [env for env in pipeline.environments if env.kubernetes.cluster]
    if image.on_github and not clusters:
        return []
    lines = preamble(repository, pipeline.branch) if image.oidc or clusters else []
    lines += registry_commands(pipeline, repository)
    for env in clusters:
        lines += cluster_commands(env, pipeline)
    return once(lines)


def registry_commands(pipeline: Pipeline, repository: str | None) -> list[str]:
    image, login = pipeline.image, pipeline.image.login
    if isinstance(login, AwsRole):
        return ecr_push(image, login, pipeline.branch) + ecr_pull(image)
    if isinstance(login, GcpIdentity):
        return gar_push(image, login, pipeline.branch) + gar_pull(image)
    if isinstance(login, AzureIdentity):
        return acr_push(image, login, pipeline.branch) + acr_pull(image, pipeline)
    if isinstance(login, SecretLogin):
        return secret_push(image, login, repository) + secret_pull(image, pipeline)
    return []


def ecr_push(image: Image, login: AwsRole, branch: str) -> list[str]:
    account, region = image.ecr_account, login.region
    name = login.role.rsplit("/", 1)[1]
    resource = f"arn:{_partition(login.role)}:ecr:{region}:{account}:repository/{image.repository}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": ECR_PUSH, "Resource": resource},
        ],
    }
    lines = [
        *comment(
            f"Registry {image.registry}: role {name} pushes {image.repository} there, assumed "
            f"over OIDC by the build, promotions and rollbacks on {branch}, and nothing else."
        ),
        *aws_trust(login.role, f"ref:refs/heads/{branch}"),
        f"aws iam put-role-policy --role-name {shlex.quote(name)} --policy-name cdgen-push "
        f"--policy-document {shlex.quote(_json(policy))}",
    ]
    if login.account != account:
        lines += comment(
            f"The role is in account {login.account}, the registry in {account}: also allow "
            "the role in the repository's policy (aws ecr set-repository-policy)."
        )
    return lines


def ecr_pull(image: Image) -> list[str]:
    return [
        *comment(
            "The cluster pulls from ECR as its nodes' IAM role (another account's nodes: grant "
            "them in the repository's policy too):"
        ),
        "aws iam attach-role-policy --role-name YOUR_NODE_ROLE --policy-arn "
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    ]


def gar_repository(image: Image) -> tuple[str, str, str]:
    """(project, Artifact Registry repository, location) of the image."""
    parts = (image.repository or "").split("/")
    if image.registry in GCR_LOCATIONS:
        return parts[0], image.registry, GCR_LOCATIONS[image.registry]
    return parts[0], parts[1], image.registry.removesuffix("-docker.pkg.dev")


def gar_push(image: Image, login: GcpIdentity, branch: str) -> list[str]:
    project, repository, location = gar_repository(image)
    account = login.service_account
    where = f"--project {project} --location {location}"
    return [
        *comment(
            f"Registry {image.registry}: {account} writes to repository {repository}, impersonated "
            f"over OIDC by the build, promotions and rollbacks on {branch}, and nothing else."
        ),
        *google_principals(login, f"ref:refs/heads/{branch}"),
        f"gcloud artifacts repositories add-iam-policy-binding {repository} {where} "
        f"--member serviceAccount:{account} --role roles/artifactregistry.writer",
    ]


def gar_pull(image: Image) -> list[str]:
    project, repository, location = gar_repository(image)
    return [
        *comment(
            "The cluster pulls as its nodes' service account (GKE: Workload Identity's node "
            "account, by default the Compute Engine default service account):"
        ),
        f"gcloud artifacts repositories add-iam-policy-binding {repository} --project {project} "
        f"--location {location} --member serviceAccount:YOUR_NODE_SERVICE_ACCOUNT "
        "--role roles/artifactregistry.reader",
    ]


def acr_push(image: Image, login: AzureIdentity, branch: str) -> list[str]:
    name = image.acr_name or ""
    return [
        *comment(
            f"Registry {image.registry}: application {login.client_id} pushes there (AcrPush), "
            f"logged in over OIDC by the build, promotions and rollbacks on {branch} only."
        ),
        *azure_credentials(login.client_id, f"ref:refs/heads/{branch}", "cdgen-push"),
        f"az role assignment create --assignee {login.client_id} --role AcrPush --scope "
        f'"$(az acr show --name {name} --subscription {login.subscription_id} --query id '
        '--output tsv)"',
    ]


def acr_pull(image: Image, pipeline: Pipeline) -> list[str]:
    clusters = [env.kubernetes.cluster for env in pipeline.environments]
    aks = [(c.cluster, c.resource_group) for c in clusters if isinstance(c, Aks)]
    lines = comment("The cluster pulls as its kubelet identity, given AcrPull on the registry:")
    for name, group in aks or [("YOUR_AKS_CLUSTER", "YOUR_RESOURCE_GROUP")]:
        lines.append(
            f"az aks update --name {name} --resource-group {shlex.quote(group)} "
            f"--attach-acr {image.acr_name}"
        )
    return lines


def secret_push(image: Image, login: SecretLogin, repository: str | None) -> list[str]:
    target = ["--repo", repository] if repository else []
    hub = image.registry == "docker.io"
    what = "a personal access token with Read & Write" if hub else "a token that may push"
    return [
        *comment(
            f"Registry {image.registry}: repository secrets (not environment ones: the build "
            f"runs in none) with a user name and {what}; gh asks for each value."
        ),
        shlex.join(["gh", "secret", "set", login.username_secret, *target]),
        shlex.join(["gh", "secret", "set", login.password_secret, *target]),
    ]


def secret_pull(image: Image, pipeline: Pipeline) -> list[str]:
    server = "https://index.docker.io/v1/" if image.registry == "docker.io" else image.registry
    lines = comment("The cluster pulls with a pull secret in each namespace (a read-only token):")
    for env in pipeline.environments:
        ns = shlex.quote(env.kubernetes.namespace)
        lines += [
            f"kubectl create secret docker-registry cdgen-pull --namespace {ns} "
            f"--docker-server={server} --docker-username=YOUR_USER --docker-password=YOUR_TOKEN",
            f"kubectl patch serviceaccount default --namespace {ns} "
            '-p \'{"imagePullSecrets": [{"name": "cdgen-pull"}]}\'',
        ]
    return lines


def _partition(arn: str) -> str:
    return arn.split(":")[1]


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
