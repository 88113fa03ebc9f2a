"""The project's self-test workflow (``uses: ./``) under act, as GitHub would run it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import GIT, run_act

pytestmark = pytest.mark.slow


def test_self_test_workflow_passes(action_checkout: Path, tmp_path: Path) -> None:
    repo = tmp_path / "cdgen"
    shutil.copytree(action_checkout, repo)
    subprocess.run([*GIT, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "self-test"], cwd=repo, check=True)
    run = run_act(
        repo,
        action_checkout,
        event={"ref": "refs/heads/main"},
        extra=["--workflows", str(repo / ".github" / "workflows" / "self-test.yml")],
    )
    assert run.code == 0, run.log
    assert run.job_succeeded("action"), run.log
    assert "::error title=Smoke test failed::" in run.log  # the broken image was caught
    assert _processes_mentioning(str(tmp_path)) == []  # the last step stopped the server


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and "smoke_server" in command:
            found.append(command)
    return found
