"""The rules of `services:` that one key's schema cannot say: what moves from the shared
`image` and the environments to each service, unique names, one image and one Deployment per
service, overrides only for environments that exist. Each is reported at its position."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cdgen.deploy.paths import PathMatcher, normalize
from cdgen.descriptor import At, Document, PathItem
from cdgen.errors import Violation

# Keys of the top-level `image` that each service sets for itself in the services form.
PER_SERVICE_IMAGE_KEYS = (
    "context",
    "dockerfile",
    "platforms",
    "test",
    "test-shell",
    "test-stage",
)
DOCKER_HUB = "docker.io"


def find_service_violations(doc: Document, at: At) -> Iterator[Violation]:
    data = doc.data if isinstance(doc.data, dict) else {}
    services = data.get("services")
    if not isinstance(services, list):
        return
    if "site" in data:
        yield at(
            ["services"],
            "services deploy images to Kubernetes: a descriptor with a "
            "static `site` has none; remove one",
        )
    yield from _shared_image(data, at)
    environments = data.get("environments")
    names = _environment_names(environments)
    yield from _environment_deployments(environments, at)
    entries = [(i, s) for i, s in enumerate(services) if isinstance(s, dict)]
    yield from _unique_names(doc, entries, at)
    yield from _unique_images(data, entries, at)
    for index, service in entries:
        yield from _overrides(service, index, names, at)
    for env_index, env_name in enumerate(names):
        yield from _unique_deployments(entries, env_index, env_name, at)


def _shared_image(data: dict[str, Any], at: At) -> Iterator[Violation]:
    image = data.get("image")
    if not isinstance(image, dict):
        return
    for key in PER_SERVICE_IMAGE_KEYS:
        if key in image:
            yield at(
                ["image", key],
                f"with `services`, each service sets its own: move it to services[].image.{key}",
            )


def _environment_names(environments: Any) -> list[str]:
    if not isinstance(environments, list):
        return []
    return [
        env["name"] if isinstance(env, dict) and isinstance(env.get("name"), str) else ""
        for env in environments
    ]


def _environment_deployments(environments: Any, at: At) -> Iterator[Violation]:
    for index, env in enumerate(environments if isinstance(environments, list) else []):
        kubernetes = env.get("kubernetes") if isinstance(env, dict) else None
        for key in ("deployment", "container"):
            if isinstance(kubernetes, dict) and key in kubernetes:
                yield at(
                    ["environments", index, "kubernetes", key],
                    f"with `services`, each service names its own {key}: set "
                    f"services[].kubernetes.{key} (or its environments[] override)",
                )


def _unique_names(doc: Document, entries: list[tuple[int, Any]], at: At) -> Iterator[Violation]:
    seen: dict[str, int] = {}
    for index, service in entries:
        name = service.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            first = doc.position(["services", seen[name], "name"])[0]
            yield at(
                ["services", index, "name"],
                f"duplicate service '{name}' (first defined on line {first})",
            )
        else:
            seen[name] = index


def service_repository(shared: Any, service: dict[str, Any]) -> str | None:
    """The image path a service pushes to; None when it is only known at run time (the
    GitHub repository on ghcr.io, followed by the service's name)."""
    image = service.get("image")
    own = image.get("repository") if isinstance(image, dict) else None
    if isinstance(own, str):
        return own
    prefix = shared.get("repository") if isinstance(shared, dict) else None
    name = service.get("name")
    if isinstance(prefix, str) and isinstance(name, str):
        return f"{prefix}/{name}"
    return None


def _unique_images(
    data: dict[str, Any], entries: list[tuple[int, Any]], at: At
) -> Iterator[Violation]:
    shared: dict[str, Any] = data["image"] if isinstance(data.get("image"), dict) else {}
    docker_hub = shared.get("registry") == DOCKER_HUB
    seen: dict[str, int] = {}
    for index, service in entries:
        own = isinstance(service.get("image"), dict) and "repository" in service["image"]
        if docker_hub and not own:
            yield at(
                ["services", index, "name"],
                "on Docker Hub an image is NAMESPACE/NAME, so each service names its own: "
                "set services[].image.repository",
            )
            continue
        repository = service_repository(shared, service)
        if repository is None or not isinstance(service.get("name"), str):
            continue
        if repository in seen:
            where: list[PathItem] = (
                ["services", index, "image", "repository"]
                if own
                else [
                    "services",
                    index,
                    "name",
                ]
            )
            yield at(
                where,
                f"pushes the same image as services[{seen[repository]}] ({repository}): "
                "each service needs an image of its own",
            )
        else:
            seen[repository] = index


def _overrides(
    service: dict[str, Any], index: int, names: list[str], at: At
) -> Iterator[Violation]:
    overrides = service.get("environments")
    seen: set[str] = set()
    for number, override in enumerate(overrides if isinstance(overrides, list) else []):
        name = override.get("name") if isinstance(override, dict) else None
        if not isinstance(name, str):
            continue
        where: list[PathItem] = ["services", index, "environments", number, "name"]
        if name not in names:
            known = ", ".join(n for n in names if n) or "none"
            yield at(where, f"no environment '{name}' in `environments` (known: {known})")
        elif name in seen:
            yield at(where, f"environment '{name}' is overridden twice for this service")
        seen.add(name)


def deployment_in(service: dict[str, Any], env_name: str) -> tuple[str | None, list[PathItem]]:
    """The Deployment a service updates in one environment, and where it was set."""
    name = service.get("name")
    found: str | None = name if isinstance(name, str) else None
    where: list[PathItem] = ["name"]
    kubernetes = service.get("kubernetes")
    if isinstance(kubernetes, dict) and isinstance(kubernetes.get("deployment"), str):
        found, where = kubernetes["deployment"], ["kubernetes", "deployment"]
    overrides = service.get("environments")
    for number, override in enumerate(overrides if isinstance(overrides, list) else []):
        if not isinstance(override, dict) or override.get("name") != env_name:
            continue
        k8s = override.get("kubernetes")
        if isinstance(k8s, dict) and isinstance(k8s.get("deployment"), str):
            found = k8s["deployment"]
            where = ["environments", number, "kubernetes", "deployment"]
    return found, where


def _unique_deployments(
    entries: list[tuple[int, Any]], env_index: int, env_name: str, at: At
) -> Iterator[Violation]:
    """Two services may not update one Deployment: a rollback of either (`rollout undo`)
    would revert the other's image too."""
    if not env_name:
        return
    seen: dict[str, int] = {}
    for index, service in entries:
        deployment, where = deployment_in(service, env_name)
        if deployment is None:
            continue
        if deployment in seen:
            yield at(
                ["services", index, *where],
                f"updates Deployment '{deployment}' in environment '{env_name}', as "
                f"services[{seen[deployment]}] does: a rollback of one would undo the other",
            )
        else:
            seen[deployment] = index


MAX_FILES = 200_000  # files looked at in the working tree; a bigger tree is checked in part


def find_unmatched_paths(doc: Document, root: Path) -> list[Violation]:
    """Each service's `paths` entry (its image's context by default) that matches no file
    under ``root``: a typo there would never trigger the service."""
    services = doc.data.get("services") if isinstance(doc.data, dict) else None
    if not isinstance(services, list):
        return []
    files: list[str] | None = None
    found: list[Violation] = []
    for index, service in enumerate(services):
        for where, pattern in _service_paths(service, index):
            if not any(char in pattern for char in "*?"):
                if (root / normalize(pattern)).exists():
                    continue
            else:
                files = _working_tree(root) if files is None else files
                if PathMatcher([pattern]).any_match(files):
                    continue
            found.append(
                doc.violation(
                    where,
                    f"{pattern!r} matches nothing "
                    "in the working tree, so no change would trigger this service",
                )
            )
    return found


def _service_paths(service: Any, index: int) -> Iterator[tuple[list[PathItem], str]]:
    if not isinstance(service, dict):
        return
    paths = service.get("paths")
    if isinstance(paths, list):
        for number, pattern in enumerate(paths):
            if isinstance(pattern, str):
                yield ["services", index, "paths", number], pattern
        return
    image = service.get("image")
    context = image.get("context") if isinstance(image, dict) else None
    if isinstance(context, str):
        yield ["services", index, "image", "context"], context


def _working_tree(root: Path) -> list[str]:
    files: list[str] = []
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if f != ".git")
        relative = Path(folder).relative_to(root).as_posix()
        for name in names:
            files.append(name if relative == "." else f"{relative}/{name}")
            if len(files) >= MAX_FILES:
                return files
    return files
