"""Detect what `cdgen init` can learn from a repository without asking.

Detection never raises on odd files: anything it cannot read or understand becomes a note
the user sees, and the field stays empty so the answers fall back to defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cdgen import rules
from cdgen.init.git_remote import GitRemote, detect_branch, detect_remote
from cdgen.init.manifests import (
    Container,
    Deployment,
    choose_container,
    choose_deployment,
    find_deployments,
)
from cdgen.init.reading import load_json, load_toml, read_text
from cdgen.init.site import SiteHint, detect_site

__all__ = [
    "Container",
    "Deployment",
    "Detection",
    "DockerfileInfo",
    "GitRemote",
    "NodeProject",
    "PythonProject",
    "detect_repository",
]

# Same rule as the schema's image.dockerfile / image.context.
_PATH = re.compile(r"^(?!-)(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$")
_DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
_DOCKERFILE_DIRS = ("docker", ".docker", "build", "deploy", "ci", "app", "src", "server", "api")
# A Dockerfile kept in one of these folders is usually built with the repository as context.
_TOOLING_DIRS = frozenset({"docker", ".docker", "build", "deploy", "ci", ".ci", "dockerfiles"})
_NPM_NO_TEST = "no test specified"
_PYTEST_SIGNALS = ("pytest.ini", "tox.ini", "conftest.py", "tests", "test")
_PYTHON_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile")
_NODE_VERSION = re.compile(r"^v?([0-9]{1,3}(\.[0-9]{1,3}){0,2})$")
_NODE_ALIASES = frozenset({"lts/*", "node"})


@dataclass(frozen=True)
class DockerfileInfo:
    path: str  # relative to the repository root, POSIX separators
    context: str  # build context, relative to the root ("." for the root itself)


@dataclass(frozen=True)
class NodeProject:
    directory: str  # where package.json is, relative to the root
    name: str | None
    test: str | None  # e.g. "npm test"
    e2e: str | None  # e.g. "npm run test:e2e"
    node_version: str | None  # e.g. "22", "22.11.0" or "lts/*"
    builds: bool = False  # it has a `build` script


@dataclass(frozen=True)
class PythonProject:
    directory: str
    name: str | None
    test: str | None  # e.g. "python -m pytest"


@dataclass(frozen=True)
class Detection:
    root: Path
    dockerfile: DockerfileInfo | None
    node: NodeProject | None
    python: PythonProject | None
    deployments: tuple[Deployment, ...]
    remote: GitRemote | None
    branch: str | None  # the remote's default branch, else the current one
    notes: tuple[str, ...]
    site: SiteHint | None = None  # a static site for Vercel or Cloudflare Pages, no Dockerfile

    @property
    def test_command(self) -> str | None:
        """The detected command that tests the image, Node first."""
        for project in (self.node, self.python):
            if project is not None and project.test is not None:
                return project.test
        return None

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
        """The usable Deployment running this repository's image, else the one named like
        the service, else the first found."""
        usable = [x for x in self.deployments if rules.is_valid("name", x.name)]
        return choose_deployment(usable, self.slug, service)

    def pick_container(self, deployment: str) -> Container | None:
        """The named Deployment's usable container running this repository's image, else
        the one named like the Deployment, else its first."""
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
    dockerfile = find_dockerfile(root, notes)
    project_dirs = ["."]
    if dockerfile is not None and dockerfile.context not in project_dirs:
        project_dirs.append(dockerfile.context)
    node = next((n for d in project_dirs if (n := read_node_project(root, d, notes))), None)
    python = next((p for d in project_dirs if (p := read_python_project(root, d, notes))), None)
    if node is None and python is None:
        notes.append(
            "No package.json or Python project found: no test command was detected; "
            "set image.test to a command that tests the built image."
        )
    site = None
    if dockerfile is None and node is not None and node.directory == ".":
        site = detect_site(root, choose_node_runner(root), node.builds, notes)
    if site is not None:  # a site is not built from a Dockerfile
        notes = [note for note in notes if not note.startswith("No Dockerfile found")]
    return Detection(
        root=root,
        dockerfile=dockerfile,
        node=node,
        python=python,
        deployments=find_deployments(root, notes),
        remote=detect_remote(root, notes),
        branch=detect_branch(root),
        notes=tuple(notes),
        site=site,
    )


def find_dockerfile(root: Path, notes: list[str]) -> DockerfileInfo | None:
    found = [c for c in list_dockerfile_candidates(root) if (root / c).is_file()]
    usable = [c for c in found if _PATH.match(c)]
    for skipped in sorted(set(found) - set(usable)):
        notes.append(
            f"{skipped}: this path cannot be used in cdgen.yml "
            "(only letters, digits, '.', '_', '/', '-'); rename it or set image.dockerfile."
        )
    if not usable:
        notes.append(
            "No Dockerfile found (looked in the root and in "
            f"{', '.join(d + '/' for d in _DOCKERFILE_DIRS)}). cdgen builds the image from "
            "./Dockerfile: add one before the first push (`docker init` writes a starter), "
            "or set image.dockerfile and image.context to where yours is."
        )
        return None
    path = usable[0]
    if len(usable) > 1:
        notes.append(f"Several Dockerfiles found ({', '.join(usable)}); using {path}.")
    parent = Path(path).parent
    context = "." if parent == Path() or parent.name in _TOOLING_DIRS else parent.as_posix()
    return DockerfileInfo(path=path, context=context)


def list_dockerfile_candidates(root: Path) -> list[str]:
    """Candidate paths in order of preference (the root first, then common folders)."""
    candidates = list(_DOCKERFILE_NAMES)
    try:
        variants = sorted(
            p.name for p in root.glob("*Dockerfile*") if p.name not in _DOCKERFILE_NAMES
        )
    except OSError:
        variants = []
    candidates += variants
    candidates += [f"{d}/{n}" for d in _DOCKERFILE_DIRS for n in _DOCKERFILE_NAMES]
    return candidates


def read_node_project(root: Path, directory: str, notes: list[str]) -> NodeProject | None:
    folder = root / directory
    manifest = folder / "package.json"
    label = (Path(directory) / "package.json").as_posix()
    if not manifest.is_file():
        return None
    text = read_text(manifest, notes, label)
    data = load_json(text, label, notes) if text is not None else None
    if data is None:
        return None
    if not isinstance(data, dict):
        notes.append(f"{label}: not a JSON object; its scripts were not read.")
        return None
    scripts = data.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    runner = choose_node_runner(folder)
    test = scripts.get("test")
    has_test = isinstance(test, str) and _NPM_NO_TEST not in test
    e2e = next((s for s in ("test:e2e", "e2e") if isinstance(scripts.get(s), str)), None)
    name = data.get("name")
    return NodeProject(
        directory=directory,
        name=name if isinstance(name, str) else None,
        test=f"{runner} test" if has_test else None,
        e2e=f"{runner} run {e2e}" if e2e else None,
        node_version=read_node_version(folder, data, notes),
        builds=isinstance(scripts.get("build"), str),
    )


def choose_node_runner(folder: Path) -> str:
    if (folder / "pnpm-lock.yaml").is_file():
        return "pnpm"
    if (folder / "yarn.lock").is_file():
        return "yarn"
    return "npm"


def read_node_version(folder: Path, package: dict[str, object], notes: list[str]) -> str | None:
    """The Node version from .nvmrc, .node-version or engines.node (its first number)."""
    for name in (".nvmrc", ".node-version"):
        path = folder / name
        if path.is_file():
            text = read_text(path, notes, name)
            value = (text or "").strip()
            match = _NODE_VERSION.match(value)
            if match:
                return match.group(1)
            if value in _NODE_ALIASES:
                return value
            notes.append(f"{name}: version {value[:40]!r} not understood; using engines.node.")
    engines = package.get("engines")
    wanted = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(wanted, str):
        first = re.search(r"[0-9]{1,3}", wanted)
        if first:
            return first.group(0)
    return None


def read_python_project(root: Path, directory: str, notes: list[str]) -> PythonProject | None:
    folder = root / directory
    if not any((folder / marker).exists() for marker in _PYTHON_MARKERS):
        return None
    pyproject = read_pyproject(folder, directory, notes)
    test = "python -m pytest" if uses_pytest(folder, pyproject) else None
    if test is None:
        where = "the repository root" if directory == "." else directory
        notes.append(
            f"A Python project in {where} without tests or pytest configuration: "
            "set image.test to the command that tests the image."
        )
    return PythonProject(directory=directory, name=read_python_name(pyproject), test=test)


def read_python_name(pyproject: dict[str, object]) -> str | None:
    tool = pyproject.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    for table in (pyproject.get("project"), poetry):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            return str(table["name"])
    return None


def read_pyproject(folder: Path, directory: str, notes: list[str]) -> dict[str, object]:
    path = folder / "pyproject.toml"
    label = (Path(directory) / "pyproject.toml").as_posix()
    if not path.is_file():
        return {}
    text = read_text(path, notes, label)
    return load_toml(text, label, notes) if text is not None else {}


def uses_pytest(folder: Path, pyproject: dict[str, object]) -> bool:
    tool = pyproject.get("tool")
    if isinstance(tool, dict) and "pytest" in tool:
        return True
    if any((folder / signal).exists() for signal in _PYTEST_SIGNALS):
        return True
    setup_cfg = folder / "setup.cfg"
    if not setup_cfg.is_file():
        return False
    return "[tool:pytest]" in (read_text(setup_cfg, [], "setup.cfg") or "")
