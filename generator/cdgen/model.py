"""The pipeline model: a validated descriptor with every default resolved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cdgen import __version__
from cdgen.resources import schema_defaults

DEFAULT_ACTION_REF = "v" + __version__.split(".", 1)[0]
# Upper bound of one smoke request in the deploy engine, used to size job timeouts.
SMOKE_REQUEST_SECONDS = 10
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


@dataclass(frozen=True)
class E2E:
    run: str
    node_version: str | None
    rollback_on_failure: bool


@dataclass(frozen=True)
class Kubernetes:
    kubeconfig_secret: str
    namespace: str
    deployment: str
    container: str
    rollout_timeout: str


@dataclass(frozen=True)
class Environment:
    name: str
    url: str
    approval: str
    kubernetes: Kubernetes
    smoke: Smoke | None
    e2e: E2E | None

    @property
    def smoke_url(self) -> str:
        return self.url.rstrip("/") + self.smoke.path if self.smoke else ""

    @property
    def deploy_minutes(self) -> int:
        """A job timeout covering a rollout and its undo, and the smoke test and its undo."""
        rollout = seconds(self.kubernetes.rollout_timeout)
        smoke = 0
        if self.smoke:
            per_try = seconds(self.smoke.interval) + SMOKE_REQUEST_SECONDS
            smoke = (1 + self.smoke.retries) * per_try  # the first try, then the retries
        return math.ceil((2 * rollout + smoke + 300) / 60)


@dataclass(frozen=True)
class Image:
    registry: str
    repository: str | None
    context: str
    dockerfile: str
    platforms: tuple[str, ...]
    tag_latest: bool
    test: str | None

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1


@dataclass(frozen=True)
class Action:
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
class Pipeline:
    name: str
    branch: str
    image: Image
    environments: tuple[Environment, ...]
    action: Action
    unmanaged: frozenset[str] = frozenset()

    @property
    def manual_environments(self) -> tuple[Environment, ...]:
        return tuple(e for e in self.environments if e.approval == "manual")


def build_pipeline(data: Any) -> Pipeline:
    """Turn validated descriptor data into the model, filling in defaults."""
    name = str(data["name"])
    return Pipeline(
        name=name,
        branch=str(data.get("branch", schema_defaults()["branch"])),
        image=_build_image(data.get("image") or {}),
        environments=tuple(_build_environment(e, name) for e in data["environments"]),
        action=_build_action(data.get("action") or {}),
        unmanaged=frozenset(str(p) for p in data.get("unmanaged") or ()),
    )


def _build_image(raw: dict[str, Any]) -> Image:
    d = {**schema_defaults("image"), **raw}
    return Image(
        registry=str(d["registry"]),
        repository=d["repository"],
        context=str(d["context"]),
        dockerfile=str(d["dockerfile"]),
        platforms=tuple(str(p) for p in d["platforms"]),
        tag_latest=bool(d["tag-latest"]),
        test=d["test"],
    )


def _build_environment(raw: dict[str, Any], service: str) -> Environment:
    d = {**schema_defaults("environments", "[]"), **raw}
    k8s = {**schema_defaults("environments", "[]", "kubernetes"), **raw["kubernetes"]}
    deployment = str(k8s["deployment"] or service)
    smoke = e2e = None
    if "smoke" in raw:
        s = {**schema_defaults("environments", "[]", "smoke"), **(raw["smoke"] or {})}
        smoke = Smoke(
            str(s["path"]), int(s["retries"]), str(s["interval"]), bool(s["expect-version"])
        )
    if "e2e" in raw:
        t = {**schema_defaults("environments", "[]", "e2e"), **raw["e2e"]}
        e2e = E2E(str(t["run"]), t["node-version"], bool(t["rollback-on-failure"]))
    return Environment(
        name=str(d["name"]),
        url=str(d["url"]),
        approval=str(d["approval"]),
        kubernetes=Kubernetes(
            kubeconfig_secret=str(k8s["kubeconfig-secret"]),
            namespace=str(k8s["namespace"]),
            deployment=deployment,
            container=str(k8s["container"] or deployment),
            rollout_timeout=str(k8s["rollout-timeout"]),
        ),
        smoke=smoke,
        e2e=e2e,
    )


def _build_action(raw: dict[str, Any]) -> Action:
    d = {**schema_defaults("action"), **raw}
    return Action(str(d["repository"]), str(d["ref"] or DEFAULT_ACTION_REF), d["version"])
