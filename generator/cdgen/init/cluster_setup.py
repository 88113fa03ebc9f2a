"""What a cloud cluster's deploy identity needs, as shell lines: its trust in the tokens of
its environment only, the cloud permission that gets the cluster's credentials, and a
binding of the deploy Role (README: Before the first deploy) in the namespace, nothing more.
"""

from __future__ import annotations

import json
import shlex

from cdgen.cloud import Aks, Eks, Gke
from cdgen.init.oidc import aws_trust, azure_credentials, comment, google_principals
from cdgen.model import Environment, Pipeline

BIND = "kubectl create rolebinding cdgen-deploy --role=cdgen-deploy --namespace {ns} --user={user}"


def cluster_commands(env: Environment, pipeline: Pipeline) -> list[str]:
    cluster = env.kubernetes.cluster
    if isinstance(cluster, Eks):
        return eks_commands(env, cluster)
    if isinstance(cluster, Gke):
        return gke_commands(env, cluster)
    if isinstance(cluster, Aks):
        return aks_commands(env, cluster)
    return []


def _bind(env: Environment, user: str) -> list[str]:
    return [
        *comment(
            f"With {env.name}'s cluster admin kubeconfig: apply the cdgen-deploy Role in namespace "
            f"{env.kubernetes.namespace} (README: Before the first deploy), then bind it:"
        ),
        BIND.format(ns=shlex.quote(env.kubernetes.namespace), user=user),
    ]


def eks_commands(env: Environment, eks: Eks) -> list[str]:
    role, region = eks.identity.role, eks.identity.region
    name, account = role.rsplit("/", 1)[1], role.split(":")[4]
    cluster_arn = f"arn:{role.split(':')[1]}:eks:{region}:{account}:cluster/{eks.cluster}"
    describe = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn}
        ],
    }
    user = f"cdgen-deploy-{env.name}"
    entry = ["aws", "eks", "create-access-entry", "--cluster-name", eks.cluster]
    entry += ["--region", region, "--principal-arn", role, "--username", user]
    return [
        *comment(
            f"{env.name}: role {name}, assumed over OIDC by {env.name}'s jobs only, may describe "
            f"EKS cluster {eks.cluster} and is user {user} inside it (an access entry, no policy)."
        ),
        *aws_trust(role, f"environment:{env.name}"),
        f"aws iam put-role-policy --role-name {shlex.quote(name)} --policy-name "
        f"cdgen-describe-cluster --policy-document "
        f"{shlex.quote(json.dumps(describe, separators=(',', ':')))}",
        shlex.join(entry),
        *_bind(env, user),
    ]


def gke_commands(env: Environment, gke: Gke) -> list[str]:
    account = gke.identity.service_account
    return [
        *comment(
            f"{env.name}: {account}, impersonated over OIDC by {env.name}'s jobs only, may get "
            f"GKE cluster {gke.cluster}'s credentials (cluster viewer) and is that user inside it."
        ),
        *google_principals(gke.identity, f"environment:{env.name}"),
        f"gcloud projects add-iam-policy-binding {gke.project} --member "
        f"serviceAccount:{account} --role roles/container.clusterViewer --condition None",
        *_bind(env, account),
    ]


def aks_commands(env: Environment, aks: Aks) -> list[str]:
    client, subscription = aks.identity.client_id, aks.identity.subscription_id
    group = shlex.quote(aks.resource_group)
    show = (
        f"az aks show --name {aks.cluster} --resource-group {group} --subscription {subscription}"
    )
    return [
        *comment(
            f"{env.name}: application {client}, logged in over OIDC by {env.name}'s jobs "
            f"only, may get AKS cluster {aks.cluster}'s user credentials, and is its service "
            "principal inside."
        ),
        *azure_credentials(client, f"environment:{env.name}", f"cdgen-{env.name}"),
        f"az role assignment create --assignee {client} --role "
        f'"Azure Kubernetes Service Cluster User Role" --scope "$({show} --query id --output tsv)"',
        *_bind(env, f'"$(az ad sp show --id {client} --query id --output tsv)"'),
    ]
