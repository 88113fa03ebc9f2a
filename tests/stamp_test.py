"""The build stamp: cdgen knows the commit it was built from, and pins its own action (and
the drift check's cdgen) to it. Unit tests of cdgen.stamp, then wheels and an sdist built
from real git checkouts, installed and run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from install_test import clean_env, run_ok, snapshot_checkout

from cdgen import __version__
from cdgen.stamp import STAMP_FILE, Stamp, from_json, is_final, read_git_stamp, release_tag, to_json

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


def test_a_development_version_is_never_a_release(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    sha = commit_all(repo)
    git(repo, "tag", "-a", "-m", "tagged anyway", release_tag())
    assert not is_final(__version__)  # main carries a .dev version between releases
    assert read_git_stamp(repo) == Stamp(sha, None)


@pytest.fixture
def final_version(monkeypatch: pytest.MonkeyPatch) -> str:
    """This cdgen as its release commit: a final version."""
    monkeypatch.setattr("cdgen.stamp.__version__", "9.9.9")
    return "v9.9.9"


def test_a_final_version_is_the_release_however_it_was_fetched(
    tmp_path: Path, final_version: str
) -> None:
    """pre-commit and CI fetch one commit without its tags: the same commit must give the
    same stamp as a clone that has them."""
    repo = new_repo(tmp_path / "repo")
    sha = commit_all(repo)
    assert read_git_stamp(repo) == Stamp(sha, final_version)  # no tag known here
    git(repo, "tag", "-a", "-m", "release", final_version)
    assert read_git_stamp(repo) == Stamp(sha, final_version)


def test_a_final_version_whose_tag_is_elsewhere_is_not_the_release(
    tmp_path: Path, final_version: str
) -> None:
    repo = new_repo(tmp_path / "repo")
    released = commit_all(repo, "release")
    git(repo, "tag", "-a", "-m", "release", final_version)
    (repo / "later").write_text("a commit after the release, before the version moved on\n")
    later = commit_all(repo, "later")
    assert read_git_stamp(repo) == Stamp(later, None)
    git(repo, "checkout", "-q", released)
    assert read_git_stamp(repo) == Stamp(released, final_version)


def test_a_modified_checkout_is_never_a_release(tmp_path: Path, final_version: str) -> None:
    repo = new_repo(tmp_path / "repo")
    sha = commit_all(repo)
    (repo / "pyproject.toml").write_text("changed\n", encoding="utf-8")
    assert read_git_stamp(repo) == Stamp(sha, None, dirty=True)


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


def test_a_stamp_round_trips_and_a_foreign_or_dirty_release_is_dropped(final_version: str) -> None:
    stamp = Stamp("a" * 40, final_version)
    assert from_json(to_json(stamp)) == stamp
    assert from_json('{"commit": "' + "a" * 40 + '", "release": "v99.9.9"}') == Stamp("a" * 40)
    dirty = '{"commit": "' + "a" * 40 + f'", "release": "{final_version}", "dirty": true}}'
    assert from_json(dirty) == Stamp("a" * 40, None, dirty=True)


def test_a_stamp_file_that_is_not_text_means_unknown() -> None:
    assert from_json(b"\xff\xfe{") == Stamp(None)


def test_an_invalid_override_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdgen.cli import main

    monkeypatch.setenv("CDGEN_BUILD_STAMP", '{"commit": "nope"}')
    assert main(["--version"]) == 1


# --- real builds -------------------------------------------------------------------------


def _build(source: Path, out: Path, *kinds: str) -> list[Path]:
    env = clean_env(out / "unused-venv")
    env.pop("CDGEN_BUILD_STAMP", None)
    # No isolation: the build backend comes from the test environment, not from an index.
    build = [sys.executable, "-m", "build", "--no-isolation", *kinds, "--outdir", str(out), "."]
    run_ok(build, source, env)
    return sorted(out.iterdir())


def _stamp_of(wheel: Path) -> Stamp:
    """The stamp a wheel carries, as written (not judged against this cdgen's version)."""
    with zipfile.ZipFile(wheel) as archive:
        data = json.loads(archive.read(f"cdgen/{STAMP_FILE}"))
    return Stamp(data["commit"], data["release"], data["dirty"])


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


def _snapshot_repo(directory: Path, version: str | None = None) -> tuple[Path, str]:
    """A snapshot of this repository with one commit of its own; ``version`` replaces
    cdgen's, as the release commit would."""
    source = snapshot_checkout(directory / "cdgen")
    if version is not None:
        init = source / "generator" / "cdgen" / "__init__.py"
        text = re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text())
        init.write_text(text, encoding="utf-8")
    git(source, "init", "-q")
    return source, commit_all(source)


@pytest.mark.slow
def test_a_development_build_pins_its_commit_and_warns(tmp_path: Path) -> None:
    source, sha = _snapshot_repo(tmp_path / "source")
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
    tmp_path: Path,
) -> None:
    """The acceptance: a wheel built from a git checkout, a descriptor without `action:`,
    and no unpinned `uses:` anywhere in the output. The release commit needs no tag fetched
    (a shallow fetch has none), and an sdist carries the stamp into a wheel built from it
    without any git metadata."""
    source, sha = _snapshot_repo(tmp_path / "source", "9.9.9")
    wheel, sdist = _build(source, tmp_path / "dist", "--sdist", "--wheel")  # .whl < .tar.gz
    assert _stamp_of(wheel) == Stamp(sha, "v9.9.9")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(sdist), "-C", str(unpacked)], check=True)
    (tree,) = unpacked.iterdir()
    assert not (tree / ".git").exists()
    (from_sdist,) = _build(tree, tmp_path / "dist-from-sdist", "--wheel")
    assert _stamp_of(from_sdist) == Stamp(sha, "v9.9.9")

    done = _generate_with(from_sdist, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    uses = _uses(tmp_path / "repo")
    assert (f"cdgen-dev/cdgen@{sha}", "# v9.9.9") in uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"# v\d+(\.\d+){0,2}", comment), (ref, comment)
    drift = (tmp_path / "repo" / ".github/workflows/cdgen.yml").read_text(encoding="utf-8")
    assert "ref: refs/tags/v9.9.9" in drift and f'CDGEN_COMMIT: "{sha}"' in drift


@pytest.mark.slow
def test_a_build_without_git_metadata_falls_back_to_the_tag_and_warns(tmp_path: Path) -> None:
    source = snapshot_checkout(tmp_path / "source")
    (wheel,) = _build(source, tmp_path / "dist", "--wheel")
    assert _stamp_of(wheel) == Stamp(None)
    done = _generate_with(wheel, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "knows no commit of its own" in done.stderr
    assert ("cdgen-dev/cdgen@v0", "") in _uses(tmp_path / "repo")


def test_an_older_pinned_action_than_this_cdgen_is_warned_about() -> None:
    """The workflows use this cdgen's action inputs and modes (verify, record): an older
    pinned release of the action would fail on GitHub, so generate says so."""
    from cdgen.generate import pin_notes
    from cdgen.model import Action

    stamp = Stamp("b" * 40, None)
    older = pin_notes("cdgen.yml", Action("cdgen-dev/cdgen", "a" * 40, "v0.0.9"), stamp)
    assert any("action.version v0.0.9 is older than this cdgen" in note for note in older)
    same = pin_notes("cdgen.yml", Action("cdgen-dev/cdgen", "a" * 40, "v0.1.0"), stamp)
    assert not any("is older than this cdgen" in note for note in same)


@pytest.mark.slow
def test_a_checkout_without_its_symbolic_links_refuses_to_build(tmp_path: Path) -> None:
    """templates/ and schemas/ reach the package through symbolic links; a checkout that lost
    them (git core.symlinks=false, as on Windows) must not build a wheel without templates."""
    source, _ = _snapshot_repo(tmp_path / "source")
    for name in ("templates", "schemas"):
        link = source / "generator" / "cdgen" / name
        target = os.readlink(link)
        link.unlink()
        link.write_text(target, encoding="utf-8")  # what git writes without symlinks
    env = clean_env(tmp_path / "unused-venv")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "--outdir",
            str(tmp_path / "dist"),
            ".",
        ],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "lost its symbolic links (git core.symlinks=false" in done.stdout + done.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.whl"))
