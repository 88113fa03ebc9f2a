"""The generated drift check (`.github/workflows/cdgen.yml`) under act: it checks out the
pinned commit of cdgen (a local bare repository of this checkout, tagged as the release),
installs cdgen's dependencies by hash with no package index (the wheels ./dev downloads),
runs cdgen from that checkout, and passes on fresh files and fails on an edited one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from install_test import snapshot_checkout

from cdgen.pins import pin

from .conftest import GIT, ROOT, ActRun, init_repo, run_act

pytestmark = pytest.mark.slow

STANDIN = ROOT / "tests" / "support" / "standins" / "checkout"
WHEELHOUSE = Path(sys.executable).parent.parent / "wheelhouse"
DESCRIPTOR = """\
version: 1
name: api
environments:
  - name: production
    url: https://example.com
    kubernetes: { namespace: production }
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


RELEASE = "9.9.9"


@pytest.fixture(scope="module")
def remotes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """cdgen-dev/cdgen as a local bare repository: this checkout as the commit of release
    9.9.9 (its version final), tagged. Returns the remotes directory, the release's work
    tree and its commit."""
    base = tmp_path_factory.mktemp("remotes")
    work = snapshot_checkout(base / "work")
    init = work / "generator" / "cdgen" / "__init__.py"
    text = re.sub(r'__version__ = "[^"]+"', f'__version__ = "{RELEASE}"', init.read_text())
    init.write_text(text, encoding="utf-8")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "cdgen")
    _git(work, "tag", "-a", "-m", "release", f"v{RELEASE}")
    bare = base / "cdgen-dev" / "cdgen.git"
    _git(base, "clone", "-q", "--bare", str(work), str(bare))
    return base, work, _git(work, "rev-parse", "HEAD")


def _user_repo(directory: Path, release: Path) -> dict[str, str]:
    """A repository whose files the release build of cdgen generated: that cdgen, run from
    its own checkout, with its real stamp (no override)."""
    directory.mkdir()
    (directory / "cdgen.yml").write_text(DESCRIPTOR, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CDGEN_BUILD_STAMP", "PYTHONPATH")}
    env["PYTHONPATH"] = str(release / "generator")
    done = subprocess.run(
        [sys.executable, "-m", "cdgen", "generate"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr  # a release build: nothing to warn about
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in directory.rglob("*")
        if p.is_file()
    }


def _act(repo: Path, remotes: Path, checkout: Path) -> ActRun:
    checkout_pin = pin("actions/checkout").uses
    return run_act(
        repo,
        checkout,
        event={"pull_request": {"number": 7, "head": {"ref": "x"}, "base": {"ref": "main"}}},
        event_name="pull_request",
        env={
            "STANDIN_REMOTES": str(remotes),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(WHEELHOUSE),
        },
        extra=[
            "--local-repository",
            f"{checkout_pin}={STANDIN}",
            "--workflows",
            str(repo / ".github" / "workflows" / "cdgen.yml"),
        ],
        timeout=600,
    )


def test_the_drift_check_installs_the_pinned_cdgen_and_passes(
    remotes: tuple[Path, Path, str], action_checkout: Path, tmp_path: Path
) -> None:
    assert WHEELHOUSE.is_dir(), "run ./dev setup: it downloads the runtime wheels"
    base, release, _ = remotes
    repo = tmp_path / "repo"
    init_repo(repo, _user_repo(repo, release))
    run = _act(repo, base, action_checkout)
    assert run.code == 0, run.log
    assert f"checked out cdgen-dev/cdgen at refs/tags/v{RELEASE} into .cdgen" in run.log
    assert "generated files are up to date with cdgen.yml" in run.log
    assert run.job_succeeded("check"), run.log


def test_the_drift_check_fails_on_an_edited_file_with_the_diff(
    remotes: tuple[Path, Path, str], action_checkout: Path, tmp_path: Path
) -> None:
    base, release, _ = remotes
    repo = tmp_path / "repo"
    files = _user_repo(repo, release)
    cd = files[".github/workflows/cd.yml"]
    files[".github/workflows/cd.yml"] = cd.replace("timeout-minutes: 60", "timeout-minutes: 61")
    init_repo(repo, files)
    run = _act(repo, base, action_checkout)
    assert run.code != 0
    assert run.job_failed("check"), run.log
    assert ".github/workflows/cd.yml: hand-edited" in run.log
    assert "Generated files are stale or hand-edited" in run.summary("check")


def test_a_checkout_that_is_not_the_pinned_commit_is_refused(
    remotes: tuple[Path, Path, str], action_checkout: Path, tmp_path: Path
) -> None:
    """The tag is checked out, but the commit decides: a moved tag is caught."""
    base, release, commit = remotes
    repo = tmp_path / "repo"
    files = _user_repo(repo, release)
    files[".github/workflows/cdgen.yml"] = files[".github/workflows/cdgen.yml"].replace(
        commit, "0" * 40
    )
    init_repo(repo, files)
    run = _act(repo, base, action_checkout)
    assert run.job_failed("check"), run.log
    assert f"the cdgen checkout is commit {commit}, not the pinned {'0' * 40}" in run.log
