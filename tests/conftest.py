"""Shared helpers for the cdgen test suite."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from cdgen.generate import Target, render_target

ROOT = Path(__file__).resolve().parent.parent
GOLDENS = Path(__file__).resolve().parent / "goldens"
# Output depends on the commit cdgen was built from (it pins its own action to it): the
# tests, the goldens and the bundled example all use this one (./dev example sets it too).
BUILD_STAMP = (ROOT / "tests" / "data" / "build-stamp.json").read_text(encoding="utf-8").strip()
os.environ["CDGEN_BUILD_STAMP"] = BUILD_STAMP


def tool(name: str) -> str:
    """A command-line tool installed next to this interpreter (./dev installs them all)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run ./dev setup (requirements-dev.txt lists it)")
    return found


def render_descriptor(root: Path, descriptor: str) -> dict[str, str]:
    """Write `descriptor` as root/cdgen.yml and render every file cdgen generates for it."""
    config = root / "cdgen.yml"
    config.write_text(descriptor, encoding="utf-8")
    return render_target(Target(config, root)).files


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
