"""Kubernetes Deployments found in a repository's manifest folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MANIFEST_DIRS = ("k8s", "deploy", "manifests", "kubernetes", ".k8s")
_MAX_DEPTH = 4
_MAX_FILES = 500
_MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class Deployment:
    file: str  # relative to the repository root
    name: str
    namespace: str | None
    containers: tuple[str, ...]


def find_deployments(root: Path, notes: list[str]) -> tuple[Deployment, ...]:
    """Every `kind: Deployment` in the manifest folders, sorted by file then position."""
    found: list[Deployment] = []
    templated: list[str] = []
    for path in list_manifest_files(root):
        relative = path.relative_to(root).as_posix()
        text = read_manifest(path, relative, notes)
        if text is None:
            continue
        if "{{" in text:
            templated.append(relative)
            continue
        found.extend(read_deployments(text, relative, notes))
    if templated:
        notes.append(
            f"Skipped {len(templated)} templated manifest(s) (Helm or similar), e.g. "
            f"{templated[0]}: set kubernetes.namespace, deployment and container by hand."
        )
    return tuple(found)


def list_manifest_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in MANIFEST_DIRS:
        top = root / name
        if not top.is_dir() or top.is_symlink():
            continue
        for folder, subfolders, filenames in os.walk(top):
            depth = len(Path(folder).relative_to(top).parts)
            subfolders[:] = sorted(subfolders) if depth < _MAX_DEPTH else []
            files.extend(
                Path(folder) / f for f in sorted(filenames) if f.endswith((".yaml", ".yml"))
            )
    return files[:_MAX_FILES]


def read_manifest(path: Path, relative: str, notes: list[str]) -> str | None:
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        notes.append(f"{relative}: cannot be read ({error.__class__.__name__}); skipped.")
        return None


def read_deployments(text: str, relative: str, notes: list[str]) -> list[Deployment]:
    """The Deployments in one (possibly multi-document) YAML file."""
    try:
        documents = list(YAML(typ="safe").load_all(text))
    # A safe loader still raises a few non-YAML errors on hostile input (deep nesting).
    except (YAMLError, ValueError, TypeError, RecursionError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        notes.append(f"{relative}{where}: not valid YAML ({problem}); skipped.")
        return []
    found = []
    for document in iterate_objects(documents):
        deployment = read_deployment(document, relative)
        if deployment is not None:
            found.append(deployment)
    return found


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


def read_deployment(document: dict[str, object], relative: str) -> Deployment | None:
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
        containers=read_container_names(document),
    )


def read_container_names(document: dict[str, object]) -> tuple[str, ...]:
    node: object = document
    for key in ("spec", "template", "spec", "containers"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return ()
    return tuple(c["name"] for c in node if isinstance(c, dict) and isinstance(c.get("name"), str))
