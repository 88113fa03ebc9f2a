"""Detect what `cdgen init` can learn from a repository without asking.

Detection never raises on odd files: anything it cannot read or understand becomes a note
the user sees, and the field stays empty so the answers fall back to defaults.

A repository is one service, or several: two Dockerfiles or more that Deployments run
(services.py pairs them), or, without any Deployment, two or more outside tests, examples
and docs. Each service then has its own Dockerfile, Deployment container, probe and test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdgen import rules
from cdgen.init.dockerfiles import DockerfileInfo, find_dockerfiles
from cdgen.init.git_remote import GitRemote, detect_branch, detect_remote
from cdgen.init.image_tests import TestGuess, guess_test
from cdgen.init.manifests import (
    Container,
    Deployment,
    choose_container,
    choose_deployment,
    find_deployments,
)
from cdgen.init.projects import (
    NodeProject,
    PythonProject,
    choose_node_runner,
    read_build_project,
    read_node_project,
    read_python_project,
)
from cdgen.init.services import (
    DockerfileGroup,
    Pairing,
    group_dockerfiles,
    pair_services,
)
from cdgen.init.site import SiteHint, detect_site

__all__ = [
    "Container",
    "Deployment",
    "DetectedService",
    "Detection",
    "DockerfileInfo",
    "GitRemote",
    "NodeProject",
    "PythonProject",
    "detect_repository",
]
DEFAULT_NAME = "app"


@dataclass(frozen=True)
class DetectedService:
    name: str
    dockerfile: DockerfileInfo
    pairing: Pairing | None  # the Deployment container running its image
    test: TestGuess | None
    node: NodeProject | None = None  # its own package.json, when it has one
    python: PythonProject | None = None


@dataclass(frozen=True)
class Detection:
    root: Path
    dockerfile: DockerfileInfo | None  # the single service's
    node: NodeProject | None  # at the root (or the single service's context)
    python: PythonProject | None
    deployments: tuple[Deployment, ...]
    remote: GitRemote | None
    branch: str | None  # the remote's default branch, else the current one
    notes: tuple[str, ...]
    test: TestGuess | None = None  # the single service's image test
    services: tuple[DetectedService, ...] = ()  # two or more: cdgen.yml's `services:` form
    pairing: Pairing | None = None  # the Deployment container running the single image
    site: SiteHint | None = None  # a static site for Vercel or Cloudflare Pages, no Dockerfile

    @property
    def test_command(self) -> str | None:
        """The detected command that tests the image, when it can run inside the image."""
        return self.test.usable if self.test else None

    @property
    def package_name(self) -> str | None:
        for project in (self.node, self.python):
            if project is not None and project.name:
                return project.name
        return None

    @property
    def slug(self) -> str | None:
        return self.remote.slug if self.remote else None

    def pick_deployment(self, service: str) -> Deployment | None:
        """The Deployment paired with the Dockerfile, else the usable one running this
        repository's image, else the one named like the service, else the first found."""
        if self.pairing is not None:
            return self.pairing.deployment
        usable = [x for x in self.deployments if rules.is_valid("name", x.name)]
        return choose_deployment(usable, self.slug, service)

    def pick_container(self, deployment: str) -> Container | None:
        """The named Deployment's container paired with the Dockerfile, else its usable one
        running this repository's image, else the one named like it, else its first."""
        if self.pairing is not None and self.pairing.deployment.name == deployment:
            return self.pairing.container
        named = [x for x in self.deployments if x.name == deployment]
        found = choose_deployment(named, self.slug, deployment)
        usable = [c for c in (found.containers if found else ()) if rules.is_valid("name", c.name)]
        return choose_container(usable, self.slug, deployment)

    def probe_path(self, deployment: str) -> str | None:
        """The path of the chosen container's HTTP readiness probe, when cdgen.yml can use it."""
        container = self.pick_container(deployment)
        path = container.probe_path if container else None
        return path if path and rules.is_valid("smoke-path", path) else None


def detect_repository(root: Path) -> Detection:
    """Inspect `root` (a repository checkout) and report what was found, with notes."""
    notes: list[str] = []
    cluster_notes: list[str] = []
    deployments = find_deployments(root, cluster_notes)
    remote = detect_remote(root, cluster_notes)
    groups = group_dockerfiles(
        find_dockerfiles(root, notes), deployments, repository_name(root, remote)
    )
    pairings = pair_services(groups, deployments, remote.slug if remote else None)
    chosen = choose_services(groups, pairings, bool(deployments), notes)
    if len(chosen) > 1:
        services = tuple(detect_service(root, g, pairings.get(g.name), notes) for g in chosen)
        dockerfile, project_dirs = None, ["."]
    else:
        services, dockerfile = (), single_dockerfile(groups, chosen, notes)
        project_dirs = unique([".", dockerfile.context] if dockerfile else ["."])
    paired = chosen[0] if len(chosen) == 1 and dockerfile in chosen[0].dockerfiles else None
    node = next((n for d in project_dirs if (n := read_node_project(root, d, notes))), None)
    python = next((p for d in project_dirs if (p := read_python_project(root, d, notes))), None)
    build = next((b for d in project_dirs if (b := read_build_project(root, d))), None)
    test = None if services else guess_test(node, python, build, dockerfile)
    if not services and test is None and node is None and python is None:
        notes.append(
            "No package.json, Python, Go, Rust, Maven or Gradle project found: no test "
            "command was detected; set image.test to a command that tests the built image."
        )
    site = None
    if dockerfile is None and not services and node is not None and node.directory == ".":
        site = detect_site(root, choose_node_runner(root), node.builds, notes)
    if site is not None:  # a site is not built from a Dockerfile
        notes = [note for note in notes if not note.startswith("No Dockerfile found")]
    return Detection(
        root=root,
        dockerfile=dockerfile,
        node=node,
        python=python,
        deployments=deployments,
        remote=remote,
        branch=detect_branch(root),
        notes=(*notes, *cluster_notes),
        test=test,
        services=services,
        pairing=pairings.get(paired.name) if paired else None,
        site=site,
    )


def repository_name(root: Path, remote: GitRemote | None) -> str:
    """The name of the service a root Dockerfile builds: the repository's, as a DNS label."""
    for candidate in (remote.name if remote else None, root.resolve().name):
        label = rules.to_dns_label(candidate or "")
        if label:
            return label
    return DEFAULT_NAME


def choose_services(
    groups: list[DockerfileGroup],
    pairings: Mapping[str, Pairing],
    deployments: bool,
    notes: list[str],
) -> list[DockerfileGroup]:
    """The groups that are services: those a Deployment runs, or, without any Deployment,
    those outside tests, examples and docs. Two or more: the others are noted."""
    if deployments:
        chosen = [g for g in groups if g.name in pairings]
    else:
        chosen = [g for g in groups if not g.aside]
    if len(chosen) > 1:
        for group in groups:
            if group not in chosen:
                why = "no Deployment runs its image" if deployments else "it is kept with tests"
                notes.append(
                    f"{group.dockerfile.path}: not a service in cdgen.yml ({why}, none is "
                    f"named {group.name!r}); add it to services: by hand if it is one."
                )
    return chosen


def single_dockerfile(
    groups: list[DockerfileGroup], chosen: list[DockerfileGroup], notes: list[str]
) -> DockerfileInfo | None:
    """The one service's Dockerfile: the paired one, else the first outside tests, with a
    note naming the others; None with a note saying where to put one."""
    everyday = [d for g in groups for d in g.dockerfiles if not d.aside]
    ordered = [*(chosen[0].dockerfiles if chosen else ()), *everyday]
    if not ordered:
        aside = ", ".join(d.path for g in groups for d in g.dockerfiles)
        cut = any(n.startswith("Dockerfiles were looked for in the first") for n in notes)
        where = (
            f"outside tests, examples and docs (found: {aside})"
            if aside
            else "in the folders looked at"
            if cut
            else "(looked in every folder but dependencies and hidden ones)"
        )
        notes.append(
            f"No Dockerfile found {where}. cdgen builds the image from ./Dockerfile: add one "
            "before the first push (`docker init` writes a starter), or set "
            "image.dockerfile and image.context to where yours is."
        )
        return None
    paths = unique([d.path for d in ordered])
    if len(paths) > 1:
        notes.append(f"Several Dockerfiles found ({', '.join(paths)}); using {paths[0]}.")
    return ordered[0]


def detect_service(
    root: Path, group: DockerfileGroup, pairing: Pairing | None, notes: list[str]
) -> DetectedService:
    """One service's projects and test command, read in its build context and the
    Dockerfile's folder (never the root's: those test the whole repository)."""
    dockerfile = group.dockerfile
    folders = unique([dockerfile.context, PurePosixPath(dockerfile.path).parent.as_posix()])
    node = next((n for d in folders if (n := read_node_project(root, d, notes))), None)
    python = next((p for d in folders if (p := read_python_project(root, d, notes))), None)
    build = next((b for d in folders if (b := read_build_project(root, d))), None)
    if len(group.dockerfiles) > 1:
        others = ", ".join(d.path for d in group.dockerfiles[1:])
        notes.append(f"{group.name}: built from {dockerfile.path}; also found {others}.")
    return DetectedService(
        name=group.name,
        dockerfile=dockerfile,
        pairing=pairing,
        test=guess_test(node, python, build, dockerfile),
        node=node,
        python=python,
    )


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
