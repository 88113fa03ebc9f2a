"""The build stamp: cdgen knows the commit it was built from, and pins its own action (and
the drift check's cdgen) to it. Unit tests of cdgen.stamp, then wheels and an sdist built
from real git checkouts, installed and run."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from install_test import clean_env, run_ok, snapshot_checkout

from cdgen import __version__
from cdgen.stamp import STAMP_FILE, Stamp, from_json, read_git_stamp, release_tag, to_json

GIT = ["git", "-c", "user.name=cdgen tests", "-c", "user.email=tests@cdgen.invalid"]
GIT += ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]
DESCRIPTOR = """\
version: 1
name: api
environments:
  - name: production
    url: https://example.com
    kubernetes: { namespace: production }
"""
USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(\S+)(.*)$", re.MULTILINE)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit_all(repo: Path, message: str = "snapshot") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    git(path, "init", "-q")
    return path


def test_a_clean_checkout_stamps_its_commit(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    sha = commit_all(repo)
    assert read_git_stamp(repo) == Stamp(sha, None, dirty=False)


def test_only_the_tag_of_this_version_makes_a_release(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    sha = commit_all(repo)
    git(repo, "tag", "v99.0.0")
    assert read_git_stamp(repo) == Stamp(sha, None)
    git(repo, "tag", "-a", "-m", "release", release_tag())  # annotated, as releases are
    assert read_git_stamp(repo) == Stamp(sha, release_tag())


def test_a_modified_checkout_is_dirty(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    commit_all(repo)
    (repo / "pyproject.toml").write_text("changed\n", encoding="utf-8")
    stamp = read_git_stamp(repo)
    assert stamp is not None and stamp.dirty
    assert stamp.describe().endswith(", modified")


def test_a_tree_nested_in_another_repository_has_no_stamp(tmp_path: Path) -> None:
    outer = new_repo(tmp_path / "outer")
    inner = outer / "vendor" / "cdgen"
    inner.mkdir(parents=True)
    commit_all(outer)
    assert read_git_stamp(inner) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"commit": "abc"}',
        '{"commit": null}',
        '{"commit": "' + "A" * 40 + '"}',
    ],
)
def test_a_malformed_stamp_means_unknown(text: str) -> None:
    assert from_json(text) == Stamp(None)


def test_a_stamp_round_trips_and_a_foreign_release_is_dropped() -> None:
    stamp = Stamp("a" * 40, release_tag(), dirty=True)
    assert from_json(to_json(stamp)) == stamp
    assert from_json('{"commit": "' + "a" * 40 + '", "release": "v99.9.9"}') == Stamp("a" * 40)


def test_an_invalid_override_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdgen.cli import main

    monkeypatch.setenv("CDGEN_BUILD_STAMP", '{"commit": "nope"}')
    assert main(["--version"]) == 1


# --- real builds -------------------------------------------------------------------------


def _build(source: Path, out: Path, *kinds: str) -> list[Path]:
    env = clean_env(out / "unused-venv")
    env.pop("CDGEN_BUILD_STAMP", None)
    run_ok([sys.executable, "-m", "build", *kinds, "--outdir", str(out), "."], source, env)
    return sorted(out.iterdir())


def _stamp_of(wheel: Path) -> Stamp:
    with zipfile.ZipFile(wheel) as archive:
        return from_json(archive.read(f"cdgen/{STAMP_FILE}").decode())


def _generate_with(wheel: Path, work: Path) -> subprocess.CompletedProcess[str]:
    venv = work / "venv"
    env = clean_env(venv)
    env.pop("CDGEN_BUILD_STAMP", None)
    run_ok([sys.executable, "-m", "venv", str(venv)], work, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run_ok([*pip, "--disable-pip-version-check", str(wheel)], work, env)
    repo = work / "repo"
    repo.mkdir()
    (repo / "cdgen.yml").write_text(DESCRIPTOR, encoding="utf-8")
    return subprocess.run(
        [str(venv / "bin" / "cdgen"), "generate"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _uses(repo: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted((repo / ".github" / "workflows").glob("*.yml")):
        found += [(m[1], m[2].strip()) for m in USES.finditer(path.read_text(encoding="utf-8"))]
    return found


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A snapshot of this repository with git history of its own: one commit."""
    source = snapshot_checkout(tmp_path_factory.mktemp("git-source") / "cdgen")
    git(source, "init", "-q")
    return source, commit_all(source)


@pytest.mark.slow
def test_a_build_from_an_untagged_commit_pins_it_and_warns(
    checkout: tuple[Path, str], tmp_path: Path
) -> None:
    source, sha = checkout
    (wheel,) = _build(source, tmp_path / "dist", "--wheel")
    assert _stamp_of(wheel) == Stamp(sha, None)
    done = _generate_with(wheel, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"built from commit {sha}, which is not a release" in done.stderr
    uses = _uses(tmp_path / "repo")
    assert ("cdgen-dev/cdgen@" + sha, "") in uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref) for ref, _ in uses)


@pytest.mark.slow
def test_a_release_build_pins_its_commit_with_the_tag_and_an_sdist_keeps_it(
    checkout: tuple[Path, str], tmp_path: Path
) -> None:
    """The acceptance: a wheel built from a git checkout, a descriptor without `action:`,
    and no unpinned `uses:` anywhere in the output. An sdist carries the stamp into a wheel
    built from it without any git metadata."""
    source, sha = checkout
    git(source, "tag", "-a", "-m", "release", release_tag())
    try:
        wheel, sdist = _build(source, tmp_path / "dist", "--sdist", "--wheel")  # .whl < .tar.gz
    finally:
        git(source, "tag", "-d", release_tag())
    assert _stamp_of(wheel) == Stamp(sha, release_tag())
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(sdist), "-C", str(unpacked)], check=True)
    (tree,) = unpacked.iterdir()
    assert not (tree / ".git").exists()
    (from_sdist,) = _build(tree, tmp_path / "dist-from-sdist", "--wheel")
    assert _stamp_of(from_sdist) == Stamp(sha, release_tag())

    done = _generate_with(from_sdist, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    uses = _uses(tmp_path / "repo")
    assert (f"cdgen-dev/cdgen@{sha}", f"# v{__version__}") in uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"# v\d+\.\d+\.\d+", comment), (ref, comment)
    drift = (tmp_path / "repo" / ".github/workflows/cdgen.yml").read_text(encoding="utf-8")
    assert f"ref: refs/tags/{release_tag()}" in drift and f'CDGEN_COMMIT: "{sha}"' in drift


@pytest.mark.slow
def test_a_build_without_git_metadata_falls_back_to_the_tag_and_warns(tmp_path: Path) -> None:
    source = snapshot_checkout(tmp_path / "source")
    (wheel,) = _build(source, tmp_path / "dist", "--wheel")
    assert _stamp_of(wheel) == Stamp(None)
    done = _generate_with(wheel, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "knows no commit of its own" in done.stderr
    assert ("cdgen-dev/cdgen@v0", "") in _uses(tmp_path / "repo")
