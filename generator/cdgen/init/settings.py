"""The settings `cdgen init` writes into cdgen.yml, as plain values: each default is read
from the schema, except where init deliberately writes more (production's approval, the
end-to-end rollback)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cdgen.cloud import Login
from cdgen.init.canary import CanaryAnswers
from cdgen.init.guesses import PRODUCTION, STAGING
from cdgen.init.service_answers import ServiceAnswers
from cdgen.resources import schema_defaults

Approval = Literal["reviewers", "manual", "none"]
APPROVALS: tuple[Approval, ...] = ("reviewers", "manual", "none")
PLACEHOLDER_URLS = {STAGING: "https://staging.example.com", PRODUCTION: "https://example.com"}
# init's own choices, where it writes more than the schema's default:
INIT_APPROVAL: Approval = "reviewers"  # production waits for a person
INIT_ROLLBACK_ON_FAILURE = True  # a failed e2e run takes staging back


def schema_default(*where: str) -> Callable[[], Any]:
    """A dataclass default read from the schema, the one source of every default."""
    *mapping, key = where
    return lambda: schema_defaults(*mapping)[key]


@dataclass(frozen=True)
class ImageAnswers:
    repository: str | None  # None: the GitHub repository, lowercased, at run time
    context: str = field(default_factory=schema_default("image", "context"))
    dockerfile: str = field(default_factory=schema_default("image", "dockerfile"))
    test: str | None = None
    test_stage: str | None = None  # a Dockerfile stage whose build runs the tests
    registry: str = field(default_factory=schema_default("image", "registry"))
    platforms: tuple[str, ...] = field(
        default_factory=lambda: tuple(schema_defaults("image")["platforms"])
    )
    tag_latest: bool = field(default_factory=schema_default("image", "tag-latest"))
    attest: bool = field(default_factory=schema_default("image", "attest"))
    login: Login | None = None  # None: ghcr.io, with the workflow's own token


KUBERNETES_SETTINGS = ("environments", "[]", "kubernetes")
SMOKE_SETTINGS = ("environments", "[]", "smoke")


@dataclass(frozen=True)
class KubernetesAnswers:
    namespace: str
    deployment: str | None  # None with services: each service names its own
    container: str | None
    kubeconfig_secret: str = field(
        default_factory=schema_default(*KUBERNETES_SETTINGS, "kubeconfig-secret")
    )
    rollout_timeout: str = field(
        default_factory=schema_default(*KUBERNETES_SETTINGS, "rollout-timeout")
    )


@dataclass(frozen=True)
class SmokeAnswers:
    path: str = field(default_factory=schema_default(*SMOKE_SETTINGS, "path"))
    retries: int = field(default_factory=schema_default(*SMOKE_SETTINGS, "retries"))
    interval: str = field(default_factory=schema_default(*SMOKE_SETTINGS, "interval"))
    expect_version: bool = field(default_factory=schema_default(*SMOKE_SETTINGS, "expect-version"))


@dataclass(frozen=True)
class E2eAnswers:
    run: str
    node_version: str | None = None
    rollback_on_failure: bool = INIT_ROLLBACK_ON_FAILURE


@dataclass(frozen=True)
class EnvironmentAnswers:
    name: str
    url: str
    approval: Approval
    kubernetes: KubernetesAnswers
    smoke: SmokeAnswers
    e2e: E2eAnswers | None = None
    canary: CanaryAnswers | None = None


@dataclass(frozen=True)
class InitAnswers:
    name: str
    branch: str
    github_repository: str | None  # owner/name for the gh commands; None: unknown
    image: ImageAnswers
    environments: tuple[EnvironmentAnswers, ...]
    notes: tuple[str, ...] = ()  # detection notes, then problems with the overrides
    services: tuple[ServiceAnswers, ...] = ()  # two or more: the services form
    sources: Mapping[str, str] = field(default_factory=dict)  # cdgen.yml key -> where from
    remarks: Mapping[str, str] = field(default_factory=dict)  # found, shown, not written
