"""All or nothing across files: failed renames, interrupts and killed runs (faults injected,
since the suite runs as root, where permissions stop nothing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.generated import ARTICLE, git_repository, snapshot

from cdgen import __version__
from cdgen.cli import main
from cdgen.header import State, body_digest, make_header, split_generated

CD = ".github/workflows/cd.yml"
ORPHAN = ".github/workflows/old-deploy.yml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Generated files made stale by a descriptor change, and an orphan cdgen wrote."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    git_repository(tmp_path)
    assert main(["generate"]) == 0
    parsed = split_generated((tmp_path / CD).read_text())
    assert parsed is not None
    state = State(parsed.state.inputs, 5, body_digest(ORPHAN, parsed.body), parsed.state.pins)
    (tmp_path / ORPHAN).write_text(make_header(__version__, "cdgen.yml", state) + parsed.body)
    (tmp_path / "cdgen.yml").write_text(ARTICLE.replace("tag-latest: true", "tag-latest: false"))
    return tmp_path


def temporary_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.cdgen-tmp"))


def fail_at(call: int, error: BaseException) -> Callable[[str, str], None]:
    """os.replace failing at its `call`-th use (1-based)."""
    real = os.replace
    calls = []

    def replace(source: str, destination: str) -> None:
        calls.append(destination)
        if len(calls) == call:
            raise error
        real(source, destination)

    return replace


# 5 stale files (set aside, then replaced: 2 renames each) and 1 orphan (set aside): 11.
@pytest.mark.parametrize("call", [1, 2, 4, 7, 10, 11])
def test_a_failing_rename_puts_back_every_file_already_changed(
    repo: Path, call: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    immutable = PermissionError(1, "Operation not permitted")
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", fail_at(call, immutable))
        assert main(["generate"]) == 1
    err = capsys.readouterr().err
    assert "Operation not permitted; every file was left as it was" in err
    assert "cdgen-tmp" not in err  # the file is named, not its temporary neighbour
    assert snapshot(repo) == before
    assert temporary_files(repo) == []
    assert main(["generate"]) == 0
    assert main(["check"]) == 0


def test_an_interrupt_during_the_renames_puts_everything_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(repo)
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", fail_at(5, KeyboardInterrupt()))
        assert main(["generate"]) == 130
    assert snapshot(repo) == before
    assert temporary_files(repo) == []


def run_generate_killed_by(sig: signal.Signals, root: Path) -> subprocess.CompletedProcess[str]:
    """`cdgen generate` in a child process that receives `sig` during its third rename."""
    code = f"""
import os, signal, sys
from cdgen.cli import main
real, calls = os.replace, []
def replace(source, destination):
    calls.append(destination)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.{sig.name})
    real(source, destination)
os.replace = replace
sys.exit(main(["generate"]))
"""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sigterm_waits_until_every_rename_is_done(repo: Path) -> None:
    done = run_generate_killed_by(signal.SIGTERM, repo)
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert temporary_files(repo) == []
    assert not (repo / ORPHAN).exists()
    assert main(["check"]) == 0  # every file is the new one


def test_the_next_run_removes_what_a_killed_run_left(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_generate_killed_by(signal.SIGKILL, repo)
    assert done.returncode == -signal.SIGKILL
    left = temporary_files(repo)
    assert left
    mine = repo / ".github/workflows/.notes.cdgen-tmp"  # not named like cdgen's own
    mine.write_text("keep me\n")
    capsys.readouterr()
    assert main(["generate"]) == 0
    out = capsys.readouterr().out
    assert out.count("(left by an interrupted run)") == len(left)
    assert temporary_files(repo) == [".notes.cdgen-tmp"]
    assert main(["check"]) == 0


def test_check_never_removes_anything(repo: Path) -> None:
    run_generate_killed_by(signal.SIGKILL, repo)
    before = snapshot(repo)
    assert main(["check"]) == 1
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("blocker", "message"),
    [
        ("cdgen.yml", "cdgen.yml: a folder is in the way"),
        (".github/workflows/rollback.yml", "rollback.yml: a folder is in the way"),
    ],
)
def test_init_force_checks_every_path_before_writing(
    tmp_path: Path, blocker: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / blocker).mkdir(parents=True)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    before = sorted(tmp_path.rglob("*"))  # folders too: none is left behind
    assert main(["init", str(tmp_path), "--yes", "--force"]) == 1
    assert message in capsys.readouterr().err
    assert sorted(tmp_path.rglob("*")) == before


def test_a_file_where_a_folder_goes_is_reported_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    git_repository(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/workflows").write_text("not a folder\n")
    before = snapshot(tmp_path)
    assert main(["generate", "--force"]) == 1
    assert ".github/workflows is not a folder" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
