"""Dockerfiles found anywhere in a repository, with their build context and stages.

The walk is tree.py's (bounded; dependencies, build output and hidden folders such as
`.devcontainer` skipped); each file is read with the bounds of reading.py. A Dockerfile's
stages tell what the built image holds (the last stage's base) and whether a `test` stage
exists for the build to target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdgen import rules
from cdgen.init.reading import read_text
from cdgen.init.tree import find_files

_PLAIN_NAMES = ("Dockerfile", "Containerfile")
# Not Dockerfiles: BuildKit's per-Dockerfile ignore files, templates, documentation, backups.
_NOT_DOCKERFILES = (".dockerignore", ".md", ".txt", ".j2", ".tmpl", ".template", ".in", ".bak")
# A Dockerfile kept in one of these folders is built with the folder above as its context.
TOOLING_DIRS = frozenset({"docker", ".docker", "build", "deploy", "ci", ".ci", "dockerfiles"})
# Folder names that say where the code is, not which service it is.
_GENERIC_DIRS = TOOLING_DIRS | {"src", "source", "container", "containers", "image", "images"}
# Dockerfiles under these folders build test rigs, examples or docs, not a service.
ASIDE_DIRS = frozenset(
    {"doc", "docs", "e2e", "example", "examples", "fixtures", "sample", "samples", "test", "tests"}
)
# `FROM [--platform=…] image [AS name]`; stage names are case-insensitive.
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Stage:
    line: int  # of its FROM instruction, 1-based
    base: str  # the image (or earlier stage) it starts from
    name: str | None  # as written; Docker compares stage names case-insensitively


@dataclass(frozen=True)
class DockerfileInfo:
    path: str  # relative to the repository root, POSIX separators
    context: str  # build context, relative to the root ("." for the root itself)
    stages: tuple[Stage, ...] = ()

    @property
    def test_stage(self) -> Stage | None:
        """The stage named `test` (in any case), which a build can target to run the tests."""
        return next((s for s in self.stages if s.name and s.name.lower() == "test"), None)

    @property
    def final_base(self) -> str | None:
        """The image the built image starts from (its last stage's base)."""
        return self.stages[-1].base if self.stages else None

    @property
    def service_name(self) -> str | None:
        """The service the folders name (`src/cartservice/src/Dockerfile`: cartservice),
        or None when the Dockerfile is the repository's own (at its root)."""
        for part in reversed(PurePosixPath(self.path).parent.parts):
            if part.lower() not in _GENERIC_DIRS:
                return rules.to_dns_label(part)
        return None

    @property
    def variant(self) -> str | None:
        """`worker` of `Dockerfile.worker` or `worker.Dockerfile`: another image, or the
        same one for another use (`Dockerfile.dev`)."""
        name = PurePosixPath(self.path).name
        for plain in _PLAIN_NAMES:
            if name.startswith(plain + "."):
                return rules.to_dns_label(name[len(plain) + 1 :])
        stem, _, suffix = name.rpartition(".")
        return rules.to_dns_label(stem) if suffix.lower() == "dockerfile" and stem else None

    @property
    def aside(self) -> bool:
        """Kept with tests, examples or docs: not a service unless a Deployment runs it."""
        return any(part.lower() in ASIDE_DIRS for part in PurePosixPath(self.path).parts[:-1])


def is_dockerfile(name: str) -> bool:
    if name in _PLAIN_NAMES:
        return True
    if name.lower().endswith(_NOT_DOCKERFILES):
        return False
    return name.startswith(tuple(p + "." for p in _PLAIN_NAMES)) or name.lower().endswith(
        ".dockerfile"
    )


def find_dockerfiles(root: Path, notes: list[str]) -> tuple[DockerfileInfo, ...]:
    """Every usable Dockerfile, nearest the root first, plain names before variants."""
    found = [
        p.relative_to(root).as_posix()
        for p in find_files(root, is_dockerfile, notes, what="Dockerfiles", skip_hidden=True)
    ]
    usable = [p for p in found if rules.is_valid("path", p)]
    for skipped in sorted(set(found) - set(usable)):
        notes.append(
            f"{skipped}: this path cannot be used in cdgen.yml "
            "(only letters, digits, '.', '_', '/', '-'); rename it or set image.dockerfile."
        )
    usable.sort(key=lambda p: (p.count("/"), PurePosixPath(p).name not in _PLAIN_NAMES, p))
    return tuple(read_dockerfile(root, path, notes) for path in usable)


def read_dockerfile(root: Path, path: str, notes: list[str]) -> DockerfileInfo:
    text = read_text(root / path, notes, path)
    return DockerfileInfo(path=path, context=build_context(path), stages=read_stages(text or ""))


def build_context(path: str) -> str:
    """The folder holding the Dockerfile, or the one above a tooling folder (`docker/`)."""
    parent = PurePosixPath(path).parent
    while parent.name in TOOLING_DIRS:
        parent = parent.parent
    return "." if parent == PurePosixPath() else parent.as_posix()


def read_stages(text: str) -> tuple[Stage, ...]:
    """The FROM instructions, each a stage; continuation lines joined first."""
    stages: list[Stage] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
            if line.lstrip().startswith("#"):
                continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        match = _FROM.match(pending + line)
        pending = ""
        if match:
            stages.append(Stage(line=start, base=match.group(1), name=match.group(2)))
    return tuple(stages)
