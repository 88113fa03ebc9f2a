"""The `services:` entries `cdgen init` writes for a repository holding several services.

Each entry says what was detected and where: its Dockerfile (which named it), its
Deployment container (and why that one), its smoke path (the container's HTTP readiness
probe), its test command (and from which file), its Dockerfile's stage named `test`; and,
as comments, what init found but could not write: a test command the image cannot run, a
probe that is not HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from cdgen import rules
from cdgen.init.detect import DetectedService, Detection
from cdgen.init.guesses import test_remarks, test_stage_guess
from cdgen.init.registry import Registry, detect_registry

# A service's name starts with a letter (it names a job and a workflow input too).
_LEADING_NON_LETTERS = re.compile(r"^[^a-z]+")
SERVICE_FALLBACK = "service"
_ENVIRONMENT_SMOKE = "smoke-tested at the environment's url and smoke.path"


@dataclass(frozen=True)
class ServiceAnswers:
    name: str
    context: str
    dockerfile: str | None = None  # None: <context>/Dockerfile, the default
    test: str | None = None
    test_stage: str | None = None  # a Dockerfile stage whose build runs the tests
    deployment: str | None = None  # None: the service's name, in every environment
    container: str | None = None  # None: the Deployment's name
    smoke_path: str | None = None  # None: the environment's smoke.path
    repository: str | None = None  # None: <image.repository>/<name>
    paths: tuple[str, ...] = ()  # (): its context, the default
    sources: Mapping[str, str] = field(default_factory=dict)  # cdgen.yml key -> where from
    remarks: Mapping[str, str] = field(default_factory=dict)  # what was found, not written


def service_label(name: str) -> str:
    """A detected name as a service name: a DNS label that starts with a letter."""
    label = _LEADING_NON_LETTERS.sub("", rules.to_dns_label(name) or "")
    return label or SERVICE_FALLBACK


def build_services(d: Detection, notes: list[str]) -> tuple[ServiceAnswers, ...]:
    """One entry per detected service, by name."""
    built = [build_service(s) for s in d.services]
    for service in built:
        if service.deployment is None:
            notes.append(
                f"{service.name}: no Deployment runs its image; cdgen.yml updates Deployment "
                f"{service.name!r}, container {service.name!r} (set kubernetes by hand)."
            )
    return tuple(sorted(built, key=lambda s: s.name))


def build_service(service: DetectedService) -> ServiceAnswers:
    dockerfile = service.dockerfile
    context = dockerfile.context
    default_dockerfile = f"{context}/Dockerfile" if context != "." else "Dockerfile"
    sources: dict[str, str] = {"name": f"built from {dockerfile.path}"}
    test = service.test.usable if service.test else None
    if test is not None and service.test is not None:
        sources["image.test"] = service.test.source
    stage = test_stage_guess(dockerfile)
    if stage is not None:
        sources["image.test-stage"] = stage[1]
    remarks = test_remarks(service.test)
    if service.test is None:
        remarks["image.test"] = "test: …  # no test command found: one that runs inside the image"
    entry = ServiceAnswers(
        name=service_label(service.name),
        context=context,
        dockerfile=None if dockerfile.path == default_dockerfile else dockerfile.path,
        test=test,
        test_stage=stage[0] if stage else None,
        paths=trigger_paths(context),
        sources=sources,
        remarks=remarks,
    )
    return with_kubernetes(entry, service)


def probe_words(kind: str | None, path: str | None) -> str:
    """What the container's readiness probe is, when it gives no smoke path."""
    if path is not None:
        return f"its readiness probe's path {path!r} cannot be a smoke path"
    return f"its readiness probe is {kind}, not HTTP" if kind else "no readiness probe"


def trigger_paths(context: str) -> tuple[str, ...]:
    """Written only for a context that is the whole repository, to say what that means (a
    Dockerfile is always inside its context, so the default covers it)."""
    return (".",) if context == "." else ()


def with_kubernetes(entry: ServiceAnswers, service: DetectedService) -> ServiceAnswers:
    """The entry with its paired Deployment container and readiness probe path."""
    pairing = service.pairing
    if pairing is None:
        return entry
    container = pairing.container
    sources = dict(entry.sources)
    sources["kubernetes.deployment"] = f"{pairing.deployment.file}: {pairing.reason}"
    path = container.probe_path
    smoke = path if path and rules.is_valid("smoke-path", path) else None
    remarks = dict(entry.remarks)
    if smoke is not None:
        sources["smoke.path"] = f"the readiness probe of container {container.name}"
    else:
        remarks["smoke.path"] = f"{probe_words(container.probe_kind, path)}: {_ENVIRONMENT_SMOKE}"
    return replace(
        entry,
        deployment=pairing.deployment.name,
        container=container.name,
        smoke_path=smoke,
        sources=sources,
        remarks=remarks,
    )


def shared_registry(
    d: Detection, project: str
) -> tuple[Registry | None, dict[str, str], str | None]:
    """The registry every paired service's manifest already pulls from, when init can log
    in to it by itself (one login for all: the push role is the project's), with each
    service's repository there; else None (ghcr.io) and the first explanation."""
    images = {
        service_label(s.name): s.pairing.container.image
        for s in d.services
        if s.pairing is not None and s.pairing.container.image
    }
    found: dict[str, Registry] = {}
    first_note: str | None = None
    for name, image in images.items():
        registry, note = detect_registry(image, name)
        first_note = first_note or note
        if registry is not None:
            found[name] = registry
    kinds = {(r.host, r.login.kind) for r in found.values()}
    if not found or len(found) != len(images) or len(kinds) != 1:
        return None, {}, first_note
    first = next(iter(found.values()))
    project_login, _ = detect_registry(next(iter(images.values())), project)
    login = project_login.login if project_login is not None else first.login
    repositories = {name: r.repository for name, r in found.items()}
    return Registry(first.host, common_parent(repositories) or project, login), repositories, None


def common_parent(repositories: Mapping[str, str]) -> str | None:
    """The folder every repository sits in (`acme` of `acme/cart`, `acme/web`), if any."""
    parents = {str(PurePosixPath(r).parent) for r in repositories.values()}
    parent = parents.pop() if len(parents) == 1 else None
    return parent if parent and parent != "." else None
