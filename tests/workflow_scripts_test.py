"""Steps of the generated workflows run with bash against fakes of the commands they call:
the image test (with and without a shell in the image)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.workflow_script import run_step

from conftest import GOLDENS

SUPPORT = Path(__file__).resolve().parent / "support"
SHA = "c" * 40


def _workflow(scenario: str, rel: str) -> str:
    files: dict[str, str] = YAML(typ="safe").load((GOLDENS / f"{scenario}.yml").read_text())[
        "files"
    ]
    return files[rel]


@pytest.fixture
def docker(tmp_path: Path) -> tuple[Path, Path]:
    """A bin directory holding the fake docker, and its state file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "docker.json"
    state.write_text(json.dumps({"tags": {}}), encoding="utf-8")
    shim = bin_dir / "docker"
    shim.write_text(
        f"#!/bin/sh\nFAKE_DOCKER_STATE='{state}' exec '{sys.executable}' '{SUPPORT / 'fake_docker.py'}' \"$@\"\n",
        encoding="utf-8",
    )
    os.chmod(shim, 0o755)
    return bin_dir, state


def _test_step(workflow: str, job: str) -> dict[str, object]:
    loaded = YAML(typ="safe").load(workflow)
    (step,) = [s for s in loaded["jobs"][job]["steps"] if s.get("name") == "Test the built image"]
    return step  # type: ignore[no-any-return]


def test_the_image_test_runs_with_the_images_shell(
    docker: tuple[Path, Path], tmp_path: Path
) -> None:
    bin_dir, state = docker
    step = _test_step(_workflow("article", ".github/workflows/cd.yml"), "build")
    done = run_step(
        step,
        {"steps.name.outputs.image": "ghcr.io/acme/api", "github.sha": SHA},
        tmp_path / "work",
        [bin_dir],
    )
    assert done.code == 0, done.stderr
    (call,) = json.loads(state.read_text())["runs"]
    assert call == {
        "image": f"ghcr.io/acme/api:{SHA}",
        "entrypoint": "/bin/sh",
        "args": ["-c", "npm test"],
    }


def test_a_distroless_image_gets_the_words_as_its_entrypoints_arguments(
    docker: tuple[Path, Path], tmp_path: Path
) -> None:
    bin_dir, state = docker
    for rel, job, expressions in (
        (
            ".github/workflows/cd.yml",
            "build",
            {"steps.name.outputs.image": "ghcr.io/acme/api", "github.sha": SHA},
        ),
        (".github/workflows/ci.yml", "build", {"github.sha": SHA}),
    ):
        step = _test_step(_workflow("distroless", rel), job)
        done = run_step(step, expressions, tmp_path / rel.replace("/", "_"), [bin_dir])
        assert done.code == 0, done.stderr
    runs = json.loads(state.read_text())["runs"]
    assert runs == [
        {
            "image": f"ghcr.io/acme/api:{SHA}",
            "entrypoint": None,
            "args": ["--self-test", "--verbose"],
        },
        {"image": f"cdgen-ci:{SHA}", "entrypoint": None, "args": ["--self-test", "--verbose"]},
    ]


def test_a_failing_image_test_fails_the_step(docker: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, state = docker
    state.write_text(
        json.dumps({"tags": {}, "exit": {f"ghcr.io/acme/api:{SHA}": 3}}), encoding="utf-8"
    )
    step = _test_step(_workflow("distroless", ".github/workflows/cd.yml"), "build")
    done = run_step(
        step,
        {"steps.name.outputs.image": "ghcr.io/acme/api", "github.sha": SHA},
        tmp_path / "w",
        [bin_dir],
    )
    assert done.code == 3
