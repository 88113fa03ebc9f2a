"""The commit this cdgen was built from, which the generated workflows pin its action to.

A wheel or sdist carries ``_build_stamp.json``, written by the build (``setup.py``) from the
git checkout it was built in. A source checkout (an editable install, or the drift check
running cdgen straight from a checkout of the action's repository) has no such file: its own
git metadata says the same thing. Anything else knows no commit.

The stamp is part of every generated file's inputs: a new build pins a new commit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cdgen import __version__

STAMP_FILE = "_build_stamp.json"
# Reproducible output for tests and the bundled example: the stamp to use instead, as JSON.
OVERRIDE = "CDGEN_BUILD_STAMP"
_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Stamp:
    """``commit``: the 40-hex commit built from (None: unknown). ``release``: the release tag
    (``v<version>``) when that commit carries it. ``dirty``: the checkout had changes."""

    commit: str | None
    release: str | None = None
    dirty: bool = False

    def describe(self) -> str:
        """A short form for the version line and the inputs hash."""
        if self.commit is None:
            return "unknown commit"
        suffix = f", {self.release}" if self.release else ""
        return f"commit {self.commit}{suffix}" + (", modified" if self.dirty else "")


def from_json(text: str | bytes) -> Stamp:
    """A stamp from the file a build wrote; anything malformed means "unknown"."""
    try:
        data = json.loads(text)
    except ValueError:  # UnicodeDecodeError included: not JSON text at all
        return Stamp(None)
    commit = data.get("commit") if isinstance(data, dict) else None
    if not isinstance(commit, str) or not _SHA.fullmatch(commit):
        return Stamp(None)
    release = data.get("release")
    dirty = data.get("dirty") is True
    released = release == release_tag() and is_final(__version__) and not dirty
    return Stamp(commit, release if released else None, dirty)


def to_json(stamp: Stamp) -> str:
    data = {"commit": stamp.commit, "release": stamp.release, "dirty": stamp.dirty}
    return json.dumps(data, sort_keys=True) + "\n"


def release_tag() -> str:
    return "v" + __version__


# MAJOR.MINOR.PATCH, the numbers every version of cdgen begins with.
_RELEASE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


def release_numbers(version: str) -> tuple[int, ...] | None:
    """(major, minor, patch) that a version or a release tag begins with: (1, 2, 4) for
    1.2.4, v1.2.4 and 1.2.4.dev0; None when it begins with none."""
    found = _RELEASE.match(version.removeprefix("v"))
    return tuple(int(part) for part in found.groups()) if found else None


def is_final(version: str) -> bool:
    """A release version (1.2.3), not a development one (1.2.4.dev0): only the commit a
    release is tagged at carries a final version (see README, Releasing)."""
    return _RELEASE.fullmatch(version) is not None


def read_git_stamp(root: Path) -> Stamp | None:
    """The stamp of the git checkout whose top level is exactly ``root``, or None.

    A source tree nested inside some other repository (an unpacked sdist in a project, say)
    has no metadata of its own and must not take the outer repository's commit.

    The commit is a release when the version is final and the checkout is clean, unless
    this checkout knows the release tag and it points elsewhere. A tag that was not fetched
    (pre-commit's and CI's shallow fetches) does not make a release build unreleased: the
    same commit gives the same stamp however it was fetched.
    """
    if not (root / ".git").exists():
        return None
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None or not _SHA.fullmatch(commit):
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    dirty = status is None or status != ""
    if dirty or not is_final(__version__):
        return Stamp(commit, None, dirty=dirty)
    tagged = _git(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{release_tag()}^{{commit}}")
    if tagged is not None and tagged != commit:
        return Stamp(commit, None)  # the release is another commit: this one is not it
    return Stamp(commit, release_tag())


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_stamp() -> Stamp:
    """This installation's stamp (or the one ``CDGEN_BUILD_STAMP`` gives)."""
    override = os.environ.get(OVERRIDE)
    if override:
        stamp = from_json(override)
        if stamp.commit is None:
            from cdgen.errors import CdgenError

            raise CdgenError(f'{OVERRIDE}: not a build stamp ({{"commit": "<40 hex>"}} expected)')
        return stamp
    return installed_stamp()


@cache
def installed_stamp() -> Stamp:
    """The build's file, else the git metadata of this source checkout, else none."""
    package = Path(__file__).resolve().parent
    stamp_file = package / STAMP_FILE
    if stamp_file.is_file():
        return from_json(stamp_file.read_bytes())
    source_root = package.parent.parent  # generator/cdgen -> the repository
    if (source_root / "pyproject.toml").is_file():
        found = read_git_stamp(source_root)
        if found is not None:
            return found
    return Stamp(None)
