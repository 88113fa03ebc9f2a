"""Steps of the generated workflows run with bash against fakes of the commands they call:
the image test (with and without a shell in the image)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.fake_gh import write_fake_gh
from support.fake_gh_attest import attestation
from support.generated import GOLDENS
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.workflow_script import StepRun, find_step, run_step

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


# --- the image check of promotions (cd.yml) and rollbacks (rollback.yml) -----------------
# Run against the fake gh over the GitHub API double and the fake docker: the rules of
# items 3, 4 and 13 (the exact signer identity, the commit from the certificate, the
# commit's place on the branch without attestations, the environment before passed).

REPO = "acme/api"
TOKEN = "ghs_test_token"
IMAGE = "ghcr.io/acme/api"
DIGEST = "sha256:" + "d" * 64


class Lab:
    """The API double with a history on `branch`, the fakes, and a way to run the step."""

    def __init__(
        self,
        tmp_path: Path,
        api: GitHubApi,
        state: GitHubState,
        docker_bin: Path,
        docker_state: Path,
    ) -> None:
        self.tmp_path, self.api, self.state = tmp_path, api, state
        self.docker_bin, self.docker_state = docker_bin, docker_state
        self.attestations: dict[str, list[dict[str, str]]] = {}

    def run(self, scenario: str, rel: str, job: str, expressions: dict[str, str]) -> StepRun:
        gh_bin = write_fake_gh(self.tmp_path / "gh", self.attestations)
        step = find_step(_workflow(scenario, rel), job, "verify")
        return run_step(
            step,
            {"steps.name.outputs.image": IMAGE, "github.token": TOKEN, **expressions},
            self.tmp_path / "step",
            [gh_bin, self.docker_bin],
            {"CDGEN_FAKE_GITHUB_API": self.api.url},
        )

    def tag(self, commit: str, digest: str) -> None:
        state = json.loads(self.docker_state.read_text())
        state["tags"][f"{IMAGE}:{commit}"] = digest
        self.docker_state.write_text(json.dumps(state))


@pytest.fixture
def lab(tmp_path: Path, docker: tuple[Path, Path]) -> Iterator[Lab]:
    state = GitHubState()
    state.add_history(REPO, 3, branch="main")
    state.add_history(REPO, 2, branch="release")
    with GitHubApi(state, tokens=(TOKEN,)) as api:
        yield Lab(tmp_path, api, state, *docker)


def _commits(lab: Lab, branch: str) -> list[str]:
    repo = lab.state.repos[REPO]
    head = repo.branches[branch]
    chain = [head]
    while repo.commits[chain[-1]].parents:
        chain.append(repo.commits[chain[-1]].parents[0])
    return chain[::-1]


def _promote(lab: Lab, wanted: str, scenario: str = "approval-manual") -> StepRun:
    return lab.run(
        scenario,
        ".github/workflows/cd.yml",
        "promotion",
        {"inputs.digest": wanted, "inputs.promote-to": "production"},
    )


PASSED = [("in_progress", "2024-01-02T00:00:00Z"), ("success", "2024-01-02T00:05:00Z")]


def _record(
    lab: Lab, commit: str, image: str, statuses: list[tuple[str, str]], task: str = "deploy"
) -> int:
    """A deployment record to staging as the action writes it: the image in its payload."""
    return lab.state.add_deployment(
        REPO, commit, "staging", statuses, payload={"image": image, "tool": "cdgen"}, task=task
    )


def test_a_promotion_takes_an_attested_image_that_passed_the_stage_before(lab: Lab) -> None:
    commit = _commits(lab, "main")[-1]
    lab.attestations[DIGEST] = [attestation(REPO, commit)]
    _record(lab, commit, f"{IMAGE}@{DIGEST}", PASSED)
    done = _promote(lab, DIGEST)
    assert done.code == 0, done.stdout + done.stderr
    assert done.outputs["image"] == f"{IMAGE}@{DIGEST}"
    assert done.outputs["commit"] == commit
    assert done.outputs["commit-time"].startswith("2024-01-01T")
    assert "passed staging" in done.summary


def test_a_promotion_refuses_an_image_that_did_not_pass_the_stage_before(lab: Lab) -> None:
    commit = _commits(lab, "main")[-1]
    lab.attestations[DIGEST] = [attestation(REPO, commit)]
    _record(lab, commit, f"{IMAGE}@{DIGEST}", [PASSED[0], ("failure", "2024-01-02T00:05:00Z")])
    done = _promote(lab, DIGEST)
    assert done.code == 1
    assert done.errors == [
        f"{IMAGE}@{DIGEST} (commit {commit}) has not passed staging: no successful deploy of that "
        "image there; promote it to staging first"
    ]
    assert "commit" not in done.outputs


def test_a_rollback_to_the_image_is_not_a_passed_stage(lab: Lab) -> None:
    """rollback.yml puts an image back without its end-to-end tests: its record (task
    rollback) proves nothing about them."""
    commit = _commits(lab, "main")[-1]
    lab.attestations[DIGEST] = [attestation(REPO, commit)]
    _record(lab, commit, f"{IMAGE}@{DIGEST}", PASSED, task="rollback")
    done = _promote(lab, DIGEST)
    assert done.code == 1
    assert "has not passed staging" in done.errors[0]


def test_another_build_of_a_commit_that_passed_has_not_passed(lab: Lab) -> None:
    """A rebuild of the same commit (a re-run, a dispatch) is another image: only the digest
    that passed staging may be promoted."""
    commit = _commits(lab, "main")[-1]
    rebuilt = "sha256:" + "e" * 64
    lab.attestations[DIGEST] = [attestation(REPO, commit)]
    lab.attestations[rebuilt] = [attestation(REPO, commit)]
    _record(lab, commit, f"{IMAGE}@{DIGEST}", PASSED)
    _record(lab, commit, f"{IMAGE}@{rebuilt}", [PASSED[0], ("failure", "2024-01-02T00:06:00Z")])
    assert _promote(lab, DIGEST).code == 0
    done = _promote(lab, rebuilt)
    assert done.code == 1
    assert done.errors[0].startswith(f"{IMAGE}@{rebuilt} (commit {commit}) has not passed staging")


def test_a_promotion_refuses_an_image_built_on_another_branch(lab: Lab) -> None:
    commit = _commits(lab, "main")[-1]
    lab.attestations[DIGEST] = [attestation(REPO, commit, ref="refs/heads/feature")]
    done = _promote(lab, DIGEST)
    assert done.code == 1
    assert done.errors == [
        f"{IMAGE}@{DIGEST} has no valid provenance from this repository's cd.yml on main"
    ]
    assert "commit" not in done.outputs


def test_a_commit_sha_resolves_through_its_tag_and_must_match_the_certificate(lab: Lab) -> None:
    first, _, last = _commits(lab, "main")
    lab.tag(last, DIGEST)
    lab.attestations[DIGEST] = [attestation(REPO, first)]  # the tag names another build
    done = _promote(lab, last)
    assert done.code == 1
    assert done.errors == [f"{IMAGE}:{last} was built from commit {first}, not {last}"]


def test_neither_a_sha_nor_a_digest_is_refused(lab: Lab) -> None:
    done = _promote(lab, "latest")
    assert done.code == 1
    assert "'latest' is neither a full commit SHA" in done.errors[0]


def test_without_attestations_the_commit_must_be_on_the_branch_and_tagged(lab: Lab) -> None:
    release = _commits(lab, "release")
    main_only = _commits(lab, "main")[-1]
    for commit in (*release, main_only):
        lab.tag(commit, "sha256:" + commit[:2] * 32)
    _record(lab, release[-2], f"{IMAGE}@sha256:{release[-2][:2] * 32}", PASSED)

    done = _promote(lab, release[-2], "private-repository")  # behind the branch's head
    assert done.code == 0, done.stdout + done.stderr
    assert done.outputs["commit"] == release[-2]
    assert done.outputs["image"] == f"{IMAGE}@sha256:{release[-2][:2] * 32}"

    not_on_branch = _promote(lab, main_only, "private-repository")
    assert not_on_branch.code == 1
    assert f"commit {main_only} is not on release" in not_on_branch.errors[0]

    digest = _promote(lab, DIGEST, "private-repository")
    assert digest.code == 1
    assert "without attestations (image.attest: false)" in digest.errors[0]

    untagged = "f" * 40
    missing = _promote(lab, untagged, "private-repository")
    assert missing.code == 1
    assert missing.errors == [
        f"{IMAGE}:{untagged} does not exist: only images the pipeline built can be deployed"
    ]


def test_a_rollback_checks_the_image_but_no_stage(lab: Lab) -> None:
    commit = _commits(lab, "main")[0]
    lab.attestations[DIGEST] = [attestation(REPO, commit)]
    done = lab.run("article", ".github/workflows/rollback.yml", "resolve", {"inputs.image": DIGEST})
    assert done.code == 0, done.stdout + done.stderr
    assert done.outputs["commit"] == commit


def _running(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_cancelled_job_stops_its_end_to_end_tests(tmp_path: Path, signum: int) -> None:
    """The runner signals only the step's shell: the tests (under coreutils timeout, in a
    process group of their own) must stop with it, not keep running during the rollback."""
    step = find_step(_workflow("article", ".github/workflows/cd.yml"), "deploy-staging", "e2e")
    marker = f"777.{os.getpid()}{signum}"
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "E2E_COMMAND": f"sleep {marker}",
        "E2E_TIMEOUT": "10m",
    }
    shell = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=env
    )
    deadline = time.monotonic() + 10
    while not _running(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(f"sleep {marker}")
    shell.send_signal(signum)
    assert shell.wait(timeout=10) != 0
    deadline = time.monotonic() + 5
    while _running(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(f"sleep {marker}"), "the tests outlived the cancelled step"
