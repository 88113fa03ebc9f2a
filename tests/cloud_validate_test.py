"""Registries, logins and cloud clusters in cdgen.yml: each identifier is checked by its own
pattern, and the registry's host decides which login it takes; every violation is reported
once, at its position."""

from __future__ import annotations

import pytest
from validate_test import problems

from cdgen.cloud import acr_name, ecr_region, registry_account

ROLE = "arn:aws:iam::123456789012:role/cdgen-push"
PROVIDER = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/acme"
ACCOUNT = "cdgen-push@acme-ci.iam.gserviceaccount.com"
UUID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
BASE = f"""\
version: 1
name: api
image:
  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  repository: acme/api
  login:
    aws: {{ role: "{ROLE}", region: eu-west-1 }}
environments:
  - name: staging
    url: https://staging.example.com
    runs-on: deploy-eu
    kubernetes:
      namespace: staging
      eks: {{ cluster: staging, region: eu-west-1, role: "{ROLE}" }}
  - name: qa
    url: https://qa.example.com
    kubernetes:
      namespace: qa
      gke:
        cluster: qa
        location: europe-west1-b
        project: acme-qa
        workload-identity-provider: {PROVIDER}
        service-account: {ACCOUNT}
  - name: production
    url: https://example.com
    kubernetes:
      namespace: production
      aks:
        cluster: aks-prod
        resource-group: rg-prod
        client-id: {UUID}
        tenant-id: {UUID}
        subscription-id: {UUID}
"""
IMAGE = BASE.split("image:\n", 1)[1].split("environments:", 1)[0]
ECR_LOGIN = "an Amazon ECR registry is pushed to as an IAM role assumed over OIDC: set login.aws (role, region)"
SECRETS_LOGIN = (
    "this registry is pushed to with a user name and a password or token from repository "
    "secrets: set login.username-secret and login.password-secret"
)
EXACTLY_ONE = "must set exactly one of: aws, gcp, azure, or username-secret with password-secret"
CLOUD_HOST = (
    "must be a cloud registry host cdgen logs in to: ACCOUNT.dkr.ecr.REGION.amazonaws.com "
    "(Amazon ECR; not ECR Public or FIPS endpoints), LOCATION-docker.pkg.dev or "
    "[us.|eu.|asia.]gcr.io (Google), or NAME.azurecr.io (Azure Container Registry)"
)
ONE_CLUSTER = (
    "must name one way to reach the cluster: kubeconfig-secret, eks, gke or aks, not more than one"
)
GCP = f"{{ gcp: {{ workload-identity-provider: {PROVIDER}, service-account: {ACCOUNT} }} }}"


def with_image(text: str) -> str:
    return BASE.replace(IMAGE, text)


def test_the_base_is_valid() -> None:
    assert problems(BASE) == []


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param(
            "  login: { username-secret: U, password-secret: P }\n",
            [
                "4:10: image.login: ghcr.io is pushed to with the workflow's own GITHUB_TOKEN "
                "and takes no login: remove image.login (or set the registry it is meant for)"
            ],
            id="ghcr-takes-no-login",
        ),
        pytest.param(
            "  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n  repository: api\n",
            [f"3:1: image: missing required key 'login': {ECR_LOGIN}"],
            id="ecr-without-login",
        ),
        pytest.param(
            f"  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n  repository: api\n"
            f"  login: {GCP}\n",
            [f"6:3: image.login: missing required key 'aws': {ECR_LOGIN}"],
            id="ecr-with-a-google-login",
        ),
        pytest.param(
            "  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n  repository: api\n"
            f"  login: {{ aws: {{ role: '{ROLE}', region: us-east-1 }} }}\n",
            [
                "6:78: image.login.aws.region: must be eu-west-1, the region in the registry's "
                "host 123456789012.dkr.ecr.eu-west-1.amazonaws.com (got 'us-east-1')"
            ],
            id="ecr-login-in-another-region",
        ),
        pytest.param(
            "  registry: docker.io\n  repository: acme/api\n"
            f"  login: {{ aws: {{ role: '{ROLE}', region: eu-west-1 }}, username-secret: U }}\n",
            [f"6:10: image.login: {EXACTLY_ONE}"],
            id="two-logins",
        ),
        pytest.param(
            "  registry: docker.io\n  repository: acme/api\n  login: { username-secret: U }\n",
            [f"6:10: image.login: {EXACTLY_ONE}"],
            id="a-user-name-without-a-password",
        ),
        pytest.param(
            "  registry: docker.io\n  repository: acme/api\n  login:\n",
            ["7:1: image.login: must be a mapping (got null)"],
            id="null-login",
        ),
        pytest.param(
            "  registry: docker.io\n  login: { username-secret: U, password-secret: P }\n",
            [
                "3:1: image: missing required key 'repository': with a registry other than "
                "ghcr.io, name the image's path there (only on ghcr.io does it default to the "
                "GitHub repository)"
            ],
            id="docker-hub-without-repository",
        ),
        pytest.param(
            "  registry: docker.io\n  repository: acme/team/api\n"
            "  login: { username-secret: U, password-secret: P }\n",
            [
                "5:15: image.repository: must be NAMESPACE/NAME on Docker Hub: your Docker ID or "
                "organization (4 to 30 lowercase letters and digits), then the repository, such "
                "as acme/api (got 'acme/team/api')"
            ],
            id="docker-hub-path-of-three",
        ),
        pytest.param(
            "  registry: registry.example.com:5000\n  repository: team/api\n",
            [f"3:1: image: missing required key 'login': {SECRETS_LOGIN}"],
            id="own-registry-without-login",
        ),
        pytest.param(
            f"  registry: europe-docker.pkg.dev\n  repository: acme-ci/api\n  login: {GCP}\n",
            [
                "5:15: image.repository: must be PROJECT-ID/REPOSITORY/IMAGE on Artifact "
                "Registry, such as acme-prod/containers/api (got 'acme-ci/api')"
            ],
            id="artifact-registry-path-of-two",
        ),
        pytest.param(
            f"  registry: gcr.io\n  repository: api\n  login: {GCP}\n",
            [
                "5:15: image.repository: must be PROJECT-ID/IMAGE on gcr.io, such as "
                "acme-prod/api (got 'api')"
            ],
            id="gcr-path-without-project",
        ),
        pytest.param(
            f"  registry: eu.gcr.io\n  repository: acme-ci/api\n  login: {GCP}\n",
            [],
            id="gcr-with-project",
        ),
        pytest.param(
            "  registry: acmeprod.azurecr.io\n  repository: api\n"
            "  login: { username-secret: U, password-secret: P }\n",
            [
                "6:3: image.login: missing required key 'azure': Azure Container Registry is "
                "pushed to as a Microsoft Entra identity over OIDC: set login.azure (client-id, "
                "tenant-id, subscription-id)"
            ],
            id="acr-refuses-a-stored-password",
        ),
        pytest.param(
            "  registry: 1234.dkr.ecr.eu-west-1.amazonaws.com\n  repository: api\n",
            [f"4:13: image.registry: {CLOUD_HOST} (got '1234.dkr.ecr.eu-west-1.amazonaws.com')"],
            id="not-quite-ecr",
        ),
        pytest.param(
            "  registry: public.ecr.aws\n  repository: acme/api\n",
            [f"4:13: image.registry: {CLOUD_HOST} (got 'public.ecr.aws')"],
            id="ecr-public",
        ),
    ],
)
def test_the_registry_decides_the_login(image: str, expected: list[str]) -> None:
    assert problems(with_image(image)) == [f"cdgen.yml:{e}" for e in expected]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "      namespace: staging\n",
            "      namespace: staging\n      kubeconfig-secret: KUBE_CONFIG\n",
            [f"13:7: environments[0].kubernetes: {ONE_CLUSTER}"],
            id="kubeconfig-and-eks",
        ),
        pytest.param(
            "      namespace: qa\n",
            "      namespace: qa\n      aks: {}\n",
            [
                f"18:7: environments[1].kubernetes: {ONE_CLUSTER}",
                *[
                    f"19:7: environments[1].kubernetes.aks: missing required key '{key}'"
                    for key in ("client-id", "cluster", "resource-group", "subscription-id")
                ],
                "19:7: environments[1].kubernetes.aks: missing required key 'tenant-id'",
            ],
            id="gke-and-an-empty-aks",
        ),
        pytest.param(
            "    runs-on: deploy-eu\n",
            "    runs-on: ubuntu-latest\n",
            [
                "11:14: environments[0].runs-on: must be a self-hosted runner label: 1 to 100 "
                "letters, digits, '.', '_' and '-', starting with a letter or digit, and not a "
                "GitHub-hosted runner (ubuntu-*, windows-*, macos-*) (got 'ubuntu-latest')"
            ],
            id="github-hosted-runner",
        ),
        pytest.param(
            "        workload-identity-provider: projects/123456789012/",
            "        workload-identity-provider: projects/acme-qa/",
            [
                "23:37: environments[1].kubernetes.gke.workload-identity-provider: must be a "
                "workload identity provider's full name: projects/PROJECT_NUMBER/locations/"
                "global/workloadIdentityPools/POOL/providers/PROVIDER (the project's number, not "
                "its id; pool and provider ids of 4 to 32 lowercase letters, digits and '-') "
                "(got 'projects/acme-qa/locations/global/workloadIdentityPools/...)"
            ],
            id="provider-named-by-project-id",
        ),
    ],
)
def test_one_way_to_each_cluster(old: str, new: str, expected: list[str]) -> None:
    assert BASE.count(old) == 1
    assert problems(BASE.replace(old, new)) == [f"cdgen.yml:{e}" for e in expected]


# Every identifier a cloud login takes, with its valid value: each must refuse what could
# inject an expression, a new line or shell syntax into the workflows.
FIELDS = [
    (f'role: "{ROLE}", region: eu-west-1 }}\nenv', f'"{ROLE}"'),
    ("region: eu-west-1 }\nenv", "eu-west-1"),
    ("    runs-on: deploy-eu\n", "deploy-eu"),
    ("eks: { cluster: staging,", "staging"),
    ("        location: europe-west1-b\n", "europe-west1-b"),
    ("        project: acme-qa\n", "acme-qa"),
    (f"        workload-identity-provider: {PROVIDER}\n", PROVIDER),
    (f"        service-account: {ACCOUNT}\n", ACCOUNT),
    ("        cluster: aks-prod\n", "aks-prod"),
    ("        resource-group: rg-prod\n", "rg-prod"),
    (f"        subscription-id: {UUID}\n", UUID),
]
PAYLOADS = ['"x${{ github.token }}"', '"ok\\n  injected: true"', '"a; id"', '"$(id)"']


@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=["expression", "newline", "semicolon", "subshell"]
)
@pytest.mark.parametrize(("field", "value"), FIELDS, ids=[v.strip('"') for _, v in FIELDS])
def test_no_identifier_takes_an_injection(field: str, value: str, payload: str) -> None:
    assert BASE.count(field) == 1
    line = BASE[: BASE.index(field)].count("\n") + 1
    found = problems(BASE.replace(field, field.replace(value, payload, 1)))
    assert found, f"{payload} accepted in {field.strip()}"
    assert any(p.startswith(f"cdgen.yml:{line}:") for p in found), found


def test_registry_hosts_name_what_the_login_needs() -> None:
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert (ecr_region(host), registry_account(host)) == ("eu-west-1", "123456789012")
    assert ecr_region(host + ".cn") == "eu-west-1"
    assert ecr_region("ghcr.io") is None and registry_account("docker.io") is None
    assert acr_name("acmeprod.azurecr.io") == "acmeprod"
    assert acr_name("acmeprod.azurecr.io.evil.example") is None
