"""The pipeline model: a validated descriptor with every default resolved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdgen import __version__
from cdgen.canary_model import Canary, build_canary
from cdgen.cloud import (
    GITHUB_REGISTRY,
    Cluster,
    Login,
    acr_name,
    build_cluster,
    build_login,
    registry_account,
)
from cdgen.deploy.durations import parse_duration
from cdgen.deploy.inputs import INPUTS_BY_NAME
from cdgen.resources import schema_defaults
from cdgen.stamp import Stamp, release_tag

if TYPE_CHECKING:
    from cdgen.services_model import Service
    from cdgen.site_model import SitePipeline

# The movable major tag, used only by a cdgen that knows no commit of its own.
FALLBACK_ACTION_REF = "v" + __version__.split(".", 1)[0]
# Upper bound of one smoke request in the deploy engine, used to size job timeouts.
SMOKE_REQUEST_SECONDS = 10
# What a deploy job spends around its own waits: checkout, toolchain, npm ci, the record.
SETUP_SECONDS = 600


def _default_seconds(name: str) -> int:
    """The action's default of the duration input `name`, in seconds."""
    text = INPUTS_BY_NAME[name].default
    found = parse_duration(text)
    if found is None:
        raise ValueError(f"the action's {name} default {text!r} is not a duration")
    return found


# The action's lock-wait default: how long a deploy waits for another one of the Deployment.
LOCK_WAIT_SECONDS = _default_seconds("lock-wait")
_UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> int:
    """Seconds in a schema-valid duration such as '90s', '5m' or '1h'."""
    return int(duration[:-1]) * _UNITS[duration[-1]]


@dataclass(frozen=True)
class Smoke:
    path: str
    retries: int
    interval: str
    expect_version: bool

    @property
    def worst_seconds(self) -> int:
        """Every attempt failing: the first try, then `retries` more, each a wait and a
        request."""
        return (1 + self.retries) * (seconds(self.interval) + SMOKE_REQUEST_SECONDS)


@dataclass(frozen=True)
class E2E:
    run: str
    node_version: str | None
    rollback_on_failure: bool
    timeout: str

    @property
    def step_minutes(self) -> int:
        """The step's `timeout-minutes`, a backstop behind the in-step `timeout`: a timed-out
        step fails (and so rolls back) where a timed-out job would only be cancelled."""
        return math.ceil(seconds(self.timeout) / 60) + 1


@dataclass(frozen=True)
class Kubernetes:
    """The target Deployment, and how the deploy job reaches its cluster: a kubeconfig
    secret, or a cloud cluster it logs in to over OIDC (then `kubeconfig_secret` is None)."""

    kubeconfig_secret: str | None
    namespace: str
    deployment: str
    container: str
    rollout_timeout: str
    cluster: Cluster | None = None


@dataclass(frozen=True)
class Environment:
    name: str
    url: str
    approval: str
    kubernetes: Kubernetes
    smoke: Smoke | None
    e2e: E2E | None
    runs_on: str | None = None
    canary: Canary | None = None

    @property
    def smoke_url(self) -> str:
        return self.url.rstrip("/") + self.smoke.path if self.smoke else ""

    @property
    def rollback_minutes(self) -> int:
        """One rolling deploy or rollback step: waiting for the deploy lock (another deploy
        or rollback of the Deployment), a rollout and its undo, and the smoke test (the first
        try, then `retries` more) and its undo."""
        rollout = seconds(self.kubernetes.rollout_timeout)
        smoke = self.smoke.worst_seconds if self.smoke else 0
        return math.ceil((LOCK_WAIT_SECONDS + 2 * rollout + smoke + 300) / 60)

    @property
    def deploy_minutes(self) -> int:
        """The deploy step: with a canary, its steps (each a rollout and a pause analysed to
        its last check) and its removal come before the rolling update of the stable one."""
        if not self.canary:
            return self.rollback_minutes
        rollout = seconds(self.kubernetes.rollout_timeout)
        return self.rollback_minutes + math.ceil(self.canary.worst_case_seconds(rollout) / 60)

    @property
    def job_minutes(self) -> int:
        """The deploy job: the deploy, then (with e2e) the tests and a rollback after them."""
        if not self.e2e:
            return self.deploy_minutes
        setup = math.ceil(SETUP_SECONDS / 60)
        return self.deploy_minutes + self.rollback_minutes + self.e2e.step_minutes + setup


@dataclass(frozen=True)
class Image:
    registry: str
    login: Login | None
    repository: str | None
    context: str
    dockerfile: str
    platforms: tuple[str, ...]
    tag_latest: bool
    test: str | None
    test_shell: bool
    attest: bool
    test_stage: str | None = None  # a Dockerfile stage built (for the runner only) before the push

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1

    @property
    def on_github(self) -> bool:
        """ghcr.io, reached with the workflow's own token (`packages` permissions)."""
        return self.registry == GITHUB_REGISTRY

    @property
    def oidc(self) -> bool:
        """Logged in to over OIDC: the jobs that log in need `id-token: write`."""
        return self.login is not None and self.login.kind != "secrets"

    @property
    def ecr_account(self) -> str | None:
        return registry_account(self.registry)

    @property
    def acr_name(self) -> str | None:
        return acr_name(self.registry)


@dataclass(frozen=True)
class Action:
    """The composite action the deploy jobs use: `repository@ref # version`."""

    repository: str
    ref: str
    version: str | None

    @property
    def pinned(self) -> bool:
        return len(self.ref) == 40

    @property
    def uses(self) -> str:
        comment = f" # {self.version}" if self.pinned and self.version else ""
        return f"{self.repository}@{self.ref}{comment}"


@dataclass(frozen=True)
class Generator:
    """The cdgen that writes the files, which the drift check runs again: its own commit in
    the action's repository (checked out by release tag when it is one, then verified)."""

    repository: str
    stamp: Stamp

    @property
    def checkout_ref(self) -> str:
        if self.stamp.release:
            return "refs/tags/" + self.stamp.release
        return self.stamp.commit or "refs/tags/" + release_tag()

    @property
    def label(self) -> str:
        return self.stamp.release or (self.stamp.commit or release_tag())[:12]


@dataclass(frozen=True)
class Pipeline:
    name: str
    branch: str
    image: Image
    environments: tuple[Environment, ...]
    action: Action
    generator: Generator
    unmanaged: frozenset[str] = frozenset()
    metrics: bool = True
    services: tuple[Service, ...] = ()  # empty: the single-service form

    @property
    def manual_environments(self) -> tuple[Environment, ...]:
        return tuple(e for e in self.environments if e.approval == "manual")

    @property
    def runner_labels(self) -> list[str]:
        """The self-hosted runner labels the environments name, sorted, once each."""
        return sorted({e.runs_on for e in self.environments if e.runs_on})


def build_model(data: Any, stamp: Stamp) -> Pipeline | SitePipeline:
    """The model of validated descriptor data: a pipeline of an image, or of a static site
    (`site:`, in cdgen.site_model)."""
    if "site" not in data:
        return build_pipeline(data, stamp)
    from cdgen.site_model import build_site_pipeline

    action = _build_action(data.get("action") or {}, stamp)
    return build_site_pipeline(data, action, Generator(action.repository, stamp))


def build_pipeline(data: Any, stamp: Stamp) -> Pipeline:
    """Turn validated descriptor data into the model, filling in defaults.

    `stamp` is the commit this cdgen was built from: the default pin of its action."""
    from cdgen.services_model import build_services  # it imports this module

    name = str(data["name"])
    action = _build_action(data.get("action") or {}, stamp)
    environments = tuple(_build_environment(e, name) for e in data["environments"])
    return Pipeline(
        name=name,
        branch=str(data.get("branch", schema_defaults()["branch"])),
        image=_build_image(data.get("image") or {}),
        environments=environments,
        action=action,
        generator=Generator(action.repository, stamp),
        unmanaged=frozenset(str(p) for p in data.get("unmanaged") or ()),
        metrics=bool(data.get("metrics", schema_defaults()["metrics"])),
        services=build_services(data, environments, data.get("image") or {}),
    )


def _build_image(raw: dict[str, Any]) -> Image:
    d = {**schema_defaults("image"), **raw}
    return Image(
        registry=str(d["registry"]),
        login=build_login(raw.get("login")),
        repository=d["repository"],
        context=str(d["context"]),
        dockerfile=str(d["dockerfile"]),
        platforms=tuple(str(p) for p in d["platforms"]),
        tag_latest=bool(d["tag-latest"]),
        test=d["test"],
        test_shell=bool(d["test-shell"]),
        attest=bool(d["attest"]),
        test_stage=d.get("test-stage"),
    )


def _build_environment(raw: dict[str, Any], service: str) -> Environment:
    d = {**schema_defaults("environments", "[]"), **raw}
    k8s = {**schema_defaults("environments", "[]", "kubernetes"), **raw["kubernetes"]}
    deployment = str(k8s["deployment"] or service)
    cluster = build_cluster(raw["kubernetes"])
    canary = build_canary(raw["canary"]) if raw.get("canary") else None
    return Environment(
        name=str(d["name"]),
        url=str(d["url"]),
        approval=str(d["approval"]),
        kubernetes=Kubernetes(
            kubeconfig_secret=None if cluster else str(k8s["kubeconfig-secret"]),
            namespace=str(k8s["namespace"]),
            deployment=deployment,
            container=str(k8s["container"] or deployment),
            rollout_timeout=str(k8s["rollout-timeout"]),
            cluster=cluster,
        ),
        smoke=build_smoke(raw),
        e2e=build_e2e(raw),
        runs_on=d["runs-on"],
        canary=canary,
    )


def build_smoke(raw: dict[str, Any]) -> Smoke | None:
    """An environment's smoke test, defaults filled in; None when it has none."""
    if "smoke" not in raw:
        return None
    s = {**schema_defaults("environments", "[]", "smoke"), **(raw["smoke"] or {})}
    return Smoke(str(s["path"]), int(s["retries"]), str(s["interval"]), bool(s["expect-version"]))


def build_e2e(raw: dict[str, Any]) -> E2E | None:
    """An environment's end-to-end tests, defaults filled in; None when it has none."""
    if "e2e" not in raw:
        return None
    t = {**schema_defaults("environments", "[]", "e2e"), **raw["e2e"]}
    return E2E(str(t["run"]), t["node-version"], bool(t["rollback-on-failure"]), str(t["timeout"]))


def _build_action(raw: dict[str, Any], stamp: Stamp) -> Action:
    """The descriptor's pin wins; else the commit this cdgen was built from (with its release
    tag as the comment when it is one); else, knowing no commit, the movable major tag."""
    d = {**schema_defaults("action"), **raw}
    repository = str(d["repository"])
    if d["ref"]:
        return Action(repository, str(d["ref"]), d["version"])
    if stamp.commit:
        return Action(repository, stamp.commit, stamp.release)
    return Action(repository, FALLBACK_ACTION_REF, None)
