"""The command that tests a service's built image, as `cdgen init` guesses it, with its source.

`image.test` runs inside the built image. A Node or Python image usually holds its sources
and runtime, so their test commands are written as found. A Go, Rust, Maven or Gradle image
built in several stages usually ends on a runtime-only base (distroless, a JRE, scratch):
the command is then shown commented out, with the reason, rather than written to fail on
the first push. A Dockerfile stage named `test` runs the tests in the build instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from cdgen.init.dockerfiles import DockerfileInfo, Stage
from cdgen.init.projects import BuildProject, NodeProject, PythonProject

# The images that hold each tool, by their last name part (`docker.io/library/golang`).
_TOOLCHAIN_IMAGES = {
    "go": frozenset({"golang"}),
    "cargo": frozenset({"rust"}),
    "maven": frozenset({"maven"}),
    "gradle": frozenset({"gradle"}),
}
# A wrapper (./gradlew, ./mvnw) needs only a JDK; a tag naming a JRE has none.
_JDK_IMAGES = frozenset({"amazoncorretto", "eclipse-temurin", "openjdk", "sapmachine"})
_TOOL_WORDS = {
    "go": "Go toolchain",
    "cargo": "Rust toolchain",
    "maven": "Maven or JDK",
    "gradle": "Gradle or JDK",
}


@dataclass(frozen=True)
class TestGuess:
    command: str  # e.g. "go test ./..."
    source: str  # where it came from, e.g. "src/checkout/go.mod"
    blocked: str | None = None  # why it cannot run inside the built image: shown, not written

    @property
    def usable(self) -> str | None:
        return None if self.blocked else self.command


def guess_test(
    node: NodeProject | None,
    python: PythonProject | None,
    build: BuildProject | None,
    dockerfile: DockerfileInfo | None,
) -> TestGuess | None:
    """The first test command found: Node, then Python, then Go, Rust, Maven or Gradle."""
    if node is not None and node.test is not None:
        label = (PurePosixPath(node.directory) / "package.json").as_posix()
        return TestGuess(node.test, f"{label} scripts.test")
    if python is not None and python.test is not None:
        return TestGuess(python.test, python.test_source or python.directory)
    if build is not None:
        return TestGuess(build.test, build.manifest, toolchain_problem(build, dockerfile))
    return None


def toolchain_problem(build: BuildProject, dockerfile: DockerfileInfo | None) -> str | None:
    """Why the built image cannot run the build tool's tests, or None (also when unknown)."""
    final = final_stage(dockerfile.stages) if dockerfile else None
    if dockerfile is None or final is None:
        return None
    name, tag = image_name(final.base)
    if name in _TOOLCHAIN_IMAGES[build.tool]:
        return None
    if build.wrapper and name in _JDK_IMAGES and "jre" not in tag.lower():
        return None
    return (
        f"the image's last stage ({dockerfile.path}:{final.line}: FROM {final.base}) has no "
        f"{_TOOL_WORDS[build.tool]}"
    )


def final_stage(stages: tuple[Stage, ...]) -> Stage | None:
    """The stage the image's base comes from: the last one, followed through `FROM <stage>`."""
    if not stages:
        return None
    stage = stages[-1]
    earlier = {s.name.lower(): s for s in stages if s.name}
    for _ in stages:  # each step goes to an earlier stage: never more steps than stages
        found = earlier.get(stage.base.lower())
        if found is None or found.line >= stage.line:
            break
        stage = found
    return stage


def image_name(reference: str) -> tuple[str, str]:
    """(last name part, tag) of an image reference: `gcr.io/distroless/java21:nonroot` →
    ("java21", "nonroot")."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    base, _, tag = last.partition(":")
    return base.lower(), tag
