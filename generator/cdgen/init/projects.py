"""The projects in a folder of a repository, and the command that tests each.

Node (package.json's `test` script) and Python (pytest configuration or a tests folder)
are read in full: their names and end-to-end scripts are used too. Go, Rust, Maven and
Gradle are known by their build files; their test command only runs inside the image when
the image still holds the toolchain, which a multi-stage build's last stage seldom does:
testing.py decides that from the Dockerfile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cdgen.init.reading import load_json, load_toml, read_text

_NPM_NO_TEST = "no test specified"
_PYTEST_SIGNALS = ("pytest.ini", "tox.ini", "conftest.py", "tests", "test")
_PYTHON_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile")
_NODE_VERSION = re.compile(r"^v?([0-9]{1,3}(\.[0-9]{1,3}){0,2})$")
_NODE_ALIASES = frozenset({"lts/*", "node"})


@dataclass(frozen=True)
class NodeProject:
    directory: str  # where package.json is, relative to the root
    name: str | None
    test: str | None  # e.g. "npm test"
    e2e: str | None  # e.g. "npm run test:e2e"
    node_version: str | None  # e.g. "22", "22.11.0" or "lts/*"
    version_source: str | None = None  # where node_version comes from, e.g. ".nvmrc"
    builds: bool = False  # it has a `build` script


@dataclass(frozen=True)
class PythonProject:
    directory: str
    name: str | None
    test: str | None  # e.g. "python -m pytest"
    test_source: str | None = None  # what says it uses pytest, e.g. "tox.ini"


@dataclass(frozen=True)
class BuildProject:
    """A Go, Rust, Maven or Gradle project: its tool, the file that shows it, its test."""

    directory: str
    tool: str  # go | cargo | maven | gradle
    manifest: str  # e.g. "src/checkout/go.mod"
    test: str  # e.g. "go test ./..."
    wrapper: bool = False  # ./gradlew or ./mvnw runs the build, which needs only a JDK


# Build file -> (tool, test command, wrapper script): first match wins, in this order.
_BUILD_FILES = (
    ("go.mod", "go", "go test ./...", None),
    ("Cargo.toml", "cargo", "cargo test", None),
    ("pom.xml", "maven", "mvn -B test", "mvnw"),
    ("build.gradle.kts", "gradle", "gradle test", "gradlew"),
    ("build.gradle", "gradle", "gradle test", "gradlew"),
)


def read_build_project(root: Path, directory: str) -> BuildProject | None:
    """The folder's Go, Rust, Maven or Gradle project, when it has one."""
    folder = root / directory
    for manifest, tool, command, wrapper in _BUILD_FILES:
        if not (folder / manifest).is_file():
            continue
        wrapped = wrapper is not None and (folder / wrapper).is_file()
        test = f"./{wrapper} {command.split(' ', 1)[1]}" if wrapped else command
        label = (Path(directory) / manifest).as_posix()
        return BuildProject(directory, tool, label, test, wrapper=wrapped)
    return None


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
    version, source = read_node_version(folder, data, notes)
    return NodeProject(
        directory=directory,
        name=name if isinstance(name, str) else None,
        test=f"{runner} test" if has_test else None,
        e2e=f"{runner} run {e2e}" if e2e else None,
        node_version=version,
        version_source=source,
        builds=isinstance(scripts.get("build"), str),
    )


def choose_node_runner(folder: Path) -> str:
    if (folder / "pnpm-lock.yaml").is_file():
        return "pnpm"
    if (folder / "yarn.lock").is_file():
        return "yarn"
    return "npm"


def read_node_version(
    folder: Path, package: dict[str, object], notes: list[str]
) -> tuple[str | None, str | None]:
    """The Node version from .nvmrc, .node-version or engines.node (its first number), and
    which of them it came from."""
    for name in (".nvmrc", ".node-version"):
        path = folder / name
        if path.is_file():
            text = read_text(path, notes, name)
            value = (text or "").strip()
            match = _NODE_VERSION.match(value)
            if match:
                return match.group(1), name
            if value in _NODE_ALIASES:
                return value, name
            notes.append(f"{name}: version {value[:40]!r} not understood; using engines.node.")
    engines = package.get("engines")
    wanted = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(wanted, str):
        first = re.search(r"[0-9]{1,3}", wanted)
        if first:
            return first.group(0), "package.json engines.node"
    return None, None


def read_python_project(root: Path, directory: str, notes: list[str]) -> PythonProject | None:
    folder = root / directory
    if not any((folder / marker).exists() for marker in _PYTHON_MARKERS):
        return None
    pyproject = read_pyproject(folder, directory, notes)
    signal = pytest_signal(folder, pyproject)
    test = "python -m pytest" if signal else None
    if test is None:
        where = "the repository root" if directory == "." else directory
        notes.append(
            f"A Python project in {where} without tests or pytest configuration: "
            "set the test command of its image (image.test) by hand."
        )
    source = signal if directory == "." or not signal else f"{directory}/{signal}"
    return PythonProject(directory, read_python_name(pyproject), test, test_source=source)


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


def pytest_signal(folder: Path, pyproject: dict[str, object]) -> str | None:
    """What shows that the project's tests run with pytest, or None."""
    tool = pyproject.get("tool")
    if isinstance(tool, dict) and "pytest" in tool:
        return "pyproject.toml [tool.pytest]"
    signal = next((s for s in _PYTEST_SIGNALS if (folder / s).exists()), None)
    if signal is not None:
        return signal + "/" if (folder / signal).is_dir() else signal
    setup_cfg = folder / "setup.cfg"
    if setup_cfg.is_file() and "[tool:pytest]" in (read_text(setup_cfg, [], "setup.cfg") or ""):
        return "setup.cfg [tool:pytest]"
    return None
