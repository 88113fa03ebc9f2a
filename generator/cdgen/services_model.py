"""The services of a monorepo in the pipeline model: each one's image, the paths that
trigger it, and where it runs in each environment, with every default resolved."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdgen.deploy.fleet_processes import PARALLEL
from cdgen.deploy.paths import PathMatcher, normalize
from cdgen.model import SETUP_SECONDS
from cdgen.resources import schema_defaults
from cdgen.services_rules import service_repository

if TYPE_CHECKING:
    from cdgen.model import Environment, Image

# How many services' deploys the action runs at once in one environment's job (the engine of
# each is a process of its own, mostly waiting on kubectl and the smoke URL).
PARALLEL_DEPLOYS = PARALLEL


@dataclass(frozen=True)
class ServiceImage:
    """`repository` None: the GitHub repository, lowercased at run time, then `/<name>`."""

    repository: str | None
    context: str
    dockerfile: str
    platforms: tuple[str, ...]
    test: str | None
    test_shell: bool
    test_stage: str | None = None  # a Dockerfile stage built (for the runner only) before the push

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1


@dataclass(frozen=True)
class Placement:
    """A service in one environment: its Deployment, container and URL."""

    environment: str
    deployment: str
    container: str
    url: str
    smoke_path: str | None  # None: the environment runs no smoke test

    @property
    def smoke_url(self) -> str:
        return self.url.rstrip("/") + self.smoke_path if self.smoke_path else ""


@dataclass(frozen=True)
class Service:
    name: str
    image: ServiceImage
    paths: tuple[str, ...]
    placements: tuple[Placement, ...]  # in the order of the environments

    def placement(self, environment: str) -> Placement:
        return next(p for p in self.placements if p.environment == environment)


def build_services(
    data: Any, environments: tuple[Environment, ...], shared: dict[str, Any]
) -> tuple[Service, ...]:
    return tuple(_build_service(raw, environments, shared) for raw in data.get("services") or ())


def _build_service(
    raw: dict[str, Any], environments: tuple[Environment, ...], shared: dict[str, Any]
) -> Service:
    name = str(raw["name"])
    given = raw.get("image") or {}
    d = {**schema_defaults("services", "[]", "image"), **given}
    context = str(d["context"])
    image = ServiceImage(
        repository=service_repository(shared, raw),
        context=context,
        dockerfile=str(d["dockerfile"] or _default_dockerfile(context)),
        platforms=tuple(str(p) for p in d["platforms"]),
        test=d["test"],
        test_shell=bool(d["test-shell"]),
        test_stage=d.get("test-stage"),
    )
    paths = tuple(str(p) for p in raw.get("paths") or _default_paths(image))
    placements = tuple(_place(raw, env) for env in environments)
    return Service(name, image, paths, placements)


def _default_paths(image: ServiceImage) -> tuple[str, ...]:
    """Its context, and its Dockerfile when that lies outside: either changes the image."""
    if PathMatcher([image.context]).matches(normalize(image.dockerfile)):
        return (image.context,)
    return (image.context, image.dockerfile)


def _default_dockerfile(context: str) -> str:
    return "Dockerfile" if context in (".", "./") else f"{context.rstrip('/')}/Dockerfile"


def _place(raw: dict[str, Any], env: Environment) -> Placement:
    kubernetes = raw.get("kubernetes") or {}
    smoke = raw.get("smoke") or {}
    url = env.url
    for override in raw.get("environments") or ():
        if override["name"] == env.name:
            kubernetes = {**kubernetes, **(override.get("kubernetes") or {})}
            smoke = {**smoke, **(override.get("smoke") or {})}
            url = str(override.get("url", url))
    deployment = str(kubernetes.get("deployment") or raw["name"])
    smoke_path = None
    if env.smoke is not None:
        smoke_path = str(smoke.get("path") or env.smoke.path)
    return Placement(
        env.name, deployment, str(kubernetes.get("container") or deployment), url, smoke_path
    )


def changes_table(services: tuple[Service, ...], image: Image) -> str:
    """The `services` input of the changes step: one JSON object per service, one a line.

    Each object is also the build matrix's entry for that service, so it carries what the
    build needs (the action passes every key but `paths` through)."""
    rows = []
    for service in services:
        row = {
            "service": service.name,
            "paths": list(service.paths),
            "repository": service.image.repository or "",
            "context": service.image.context,
            "dockerfile": service.image.dockerfile,
            "platforms": ",".join(service.image.platforms),
            "multi-platform": service.image.multi_platform,
            "test": service.image.test or "",
            "test-shell": service.image.test_shell,
            "test-stage": service.image.test_stage or "",
        }
        rows.append(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
    return _json_lines(rows)


def targets_table(services: tuple[Service, ...], environment: str, env_url: str) -> str:
    """The `services` input of a deploy step: where each service runs in `environment`,
    with only what differs from the defaults (the Deployment is the service's name, the
    container the Deployment's, the URL the environment's)."""
    rows = []
    for service in services:
        place = service.placement(environment)
        row = {"service": service.name}
        if place.deployment != service.name:
            row["deployment"] = place.deployment
        if place.container != place.deployment:
            row["container"] = place.container
        if place.smoke_url:
            row["smoke-url"] = place.smoke_url
        if place.url != env_url:
            row["environment-url"] = place.url
        rows.append(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
    return _json_lines(rows)


def _json_lines(rows: list[str]) -> str:
    if not rows:
        return "[]"
    return "[\n" + ",\n".join("  " + row for row in rows) + "\n]"


def deploy_waves(count: int) -> int:
    """How many rounds of parallel deploys `count` services take at worst."""
    return max(1, math.ceil(count / PARALLEL_DEPLOYS))


def fleet_job_minutes(env: Environment, count: int) -> int:
    """An environment's job when every one of `count` services changed: the deploys, the
    check that they are live, the tests, a rollback of every service, the records."""
    waves = deploy_waves(count)
    setup = SETUP_SECONDS // 60
    minutes = waves * env.deploy_minutes + waves * env.rollback_minutes + setup
    if env.e2e:
        minutes += waves * verify_minutes(env) + env.e2e.step_minutes
    return minutes


def stage_minutes(env: Environment, count: int) -> int:
    """An environment's job in cd.yml: a promotion deploys one service; a push every one
    that changed, all `count` at worst."""
    return fleet_job_minutes(env, 1 if env.approval == "manual" else count)


def verify_minutes(env: Environment) -> int:
    """The check that an image is live: a read, then every smoke attempt."""
    smoke = env.smoke.worst_seconds if env.smoke else 0
    return math.ceil((smoke + 60) / 60)
