"""Helpers shared by the generator tests: where things are, tools, rendering descriptors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cdgen.generate import Target, render_target

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = ROOT / "tests" / "goldens"


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


def golden_descriptor(name: str) -> str:
    """The descriptor of a golden scenario, e.g. "article"."""
    text = (GOLDENS / f"{name}.yml").read_text(encoding="utf-8")
    block = text.split("descriptor: |\n", 1)[1].split("\nfiles:")[0]
    return "\n".join(line[2:] for line in block.splitlines()) + "\n"


# The article's descriptor: staging with smoke and e2e, production behind reviewers.
ARTICLE = golden_descriptor("article")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (outside .git) with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def git_repository(root: Path, descriptor: str = ARTICLE) -> Path:
    """A real git repository at root holding `descriptor` as cdgen.yml."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "cdgen.yml").write_text(descriptor, encoding="utf-8")
    return root
