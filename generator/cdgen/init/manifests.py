"""Kubernetes Deployments found anywhere in a repository.

Every YAML file is a candidate, wherever it lives (`k8s/`, `kubernetes-manifests/`,
`kustomize/overlays/prod/`…), except in folders of dependencies, tooling and version
control. The walk is tree.py's, bounded, and every file is read with the bounds of
reading.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cdgen.init.reading import load_yaml_documents, read_text
from cdgen.init.tree import find_files

_PROBE_KINDS = ("httpGet", "grpc", "tcpSocket", "exec")


@dataclass(frozen=True)
class Container:
    name: str
    image: str | None
    probe_path: str | None  # the path of an HTTP readiness probe
    probe_kind: str | None = None  # the readiness probe's handler: httpGet, grpc, tcpSocket, exec


@dataclass(frozen=True)
class Deployment:
    file: str  # relative to the repository root
    name: str
    namespace: str | None
    containers: tuple[Container, ...]
    replicas: int | None = None  # spec.replicas, when written

    @property
    def container_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.containers)


def find_deployments(root: Path, notes: list[str]) -> tuple[Deployment, ...]:
    """Every `kind: Deployment` in the repository, sorted by file then position."""
    found: list[Deployment] = []
    templated: list[str] = []
    for path in list_yaml_files(root, notes):
        relative = path.relative_to(root).as_posix()
        text = read_text(path, notes, relative)
        if text is None or "Deployment" not in text:
            continue  # most YAML files are not manifests: no parsing for them
        for chunk in _plain_documents(text, relative, templated):
            documents = load_yaml_documents(chunk, relative, notes)
            found.extend(
                d for doc in iterate_objects(documents or []) if (d := read(doc, relative))
            )
    if templated:
        notes.append(
            f"Skipped {len(templated)} templated manifest document(s) (Helm or similar), e.g. "
            f"{templated[0]}: set kubernetes.namespace, deployment and container by hand."
        )
    return tuple(found)


def _plain_documents(text: str, relative: str, templated: list[str]) -> list[str]:
    """The file's text, or, when it holds template syntax, its documents without any (each
    templated one noted): a Helm document does not hide the plain ones beside it."""
    if "{{" not in text:
        return [text]
    # A `---` at the start of a line always begins a document outside a block scalar, and
    # a block scalar's lines are indented: splitting there keeps every document whole.
    chunks = re.split(r"(?m)^---[ \t]*(?:#.*)?$", text)
    templated.extend(relative for chunk in chunks if "{{" in chunk)
    return [chunk for chunk in chunks if "{{" not in chunk and chunk.strip()]


def list_yaml_files(root: Path, notes: list[str]) -> list[Path]:
    """The repository's YAML files in path order, within the bounds of the walk."""
    return find_files(root, lambda name: name.endswith((".yaml", ".yml")), notes, what="YAML files")


def iterate_objects(documents: list[object]) -> Iterator[dict[str, object]]:
    """Every object in the documents, looking inside `kind: List`."""
    for document in documents:
        if not isinstance(document, dict):
            continue
        items = document.get("items")
        if document.get("kind") == "List" and isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict))
        else:
            yield document


def read(document: dict[str, object], relative: str) -> Deployment | None:
    """The Deployment `document` describes, or None for any other object."""
    if document.get("kind") != "Deployment":
        return None
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str):
        return None
    return Deployment(
        file=relative,
        name=name,
        namespace=namespace if isinstance(namespace, str) else None,
        containers=read_containers(document),
        replicas=replicas
        if isinstance(replicas := _dig(document, "spec", "replicas"), int)
        else None,
    )


def read_containers(document: dict[str, object]) -> tuple[Container, ...]:
    node = _dig(document, "spec", "template", "spec", "containers")
    if not isinstance(node, list):
        return ()
    return tuple(
        Container(
            name=item["name"],
            image=image if isinstance(image := item.get("image"), str) else None,
            probe_path=path if isinstance(path := _dig(item, *_PROBE), str) else None,
            probe_kind=read_probe_kind(item),
        )
        for item in node
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    )


_PROBE = ("readinessProbe", "httpGet", "path")


def read_probe_kind(container: dict[str, object]) -> str | None:
    probe = container.get("readinessProbe")
    if not isinstance(probe, dict):
        return None
    return next((kind for kind in _PROBE_KINDS if kind in probe), None)


def _dig(node: object, *keys: str) -> object:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def image_score(image: str | None, slug: str | None) -> int:
    """How surely `image` is the GitHub repository `slug`'s own: 2 on ghcr.io, 1 elsewhere."""
    if not image or not slug:
        return 0
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]  # the tag, not a registry's port
    name, wanted = name.lower(), slug.lower()
    if name == f"ghcr.io/{wanted}":
        return 2
    return 1 if name == wanted or name.endswith(f"/{wanted}") else 0


def choose_deployment(
    deployments: list[Deployment], slug: str | None, service: str
) -> Deployment | None:
    """The Deployment running this repository's image, else the one named like the service,
    else the first found."""

    def rank(deployment: Deployment) -> tuple[int, bool]:
        runs = max((image_score(c.image, slug) for c in deployment.containers), default=0)
        return runs, deployment.name == service

    return max(deployments, key=rank, default=None)  # the first of equals wins


def choose_container(
    containers: list[Container], slug: str | None, deployment: str
) -> Container | None:
    """The container running this repository's image, else the one named like the
    Deployment, else the first."""
    return max(
        containers, key=lambda c: (image_score(c.image, slug), c.name == deployment), default=None
    )
