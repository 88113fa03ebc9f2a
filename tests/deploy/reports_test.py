"""The summary and outputs files: checked before anything touches the cluster, and a write
that fails at the end never hides the deploy's outcome or turns it into a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.sandbox import GOOD, image
from support.smoke_server import SmokeServer

from cdgen.deploy.cli import main

from .conftest import NAMESPACE, Sandbox, parse_outputs

FULL = "/dev/full"  # opens fine, every write fails with ENOSPC


@pytest.fixture
def engine_env(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, server: SmokeServer, tmp_path: Path
) -> Path:
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_ROLLOUT_TIMEOUT": "1s",
        "CDGEN_SMOKE_URL": f"{server.url}/{NAMESPACE}/api",
        "CDGEN_SMOKE_RETRIES": "0",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_summary_that_cannot_be_written_keeps_the_deploy(
    engine_env: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = engine_env / "outputs"
    code = main(["--image", image("v2"), "--summary-file", FULL, "--output-file", str(outputs)])
    log = capsys.readouterr().out
    assert code == 0, log
    assert sandbox.image() == image("v2")
    assert parse_outputs(outputs.read_text(encoding="utf-8"))["result"] == "deployed"
    assert (
        "::warning title=Summary not written::the job summary is lost: cannot write /dev/full: "
        "No space left on device"
    ) in log


def test_outputs_that_cannot_be_written_fail_the_step_and_say_what_is_live(
    engine_env: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = engine_env / "summary"
    code = main(["--image", image("v2"), "--output-file", FULL, "--summary-file", str(summary)])
    log = capsys.readouterr().out
    assert code == 1
    assert sandbox.image() == image("v2")
    assert "cdgen deploy: staging: deployed" in summary.read_text(encoding="utf-8")
    assert (
        f"the step outputs are lost: cannot write /dev/full: No space left on device. The run "
        f"ended deployed; live image: {image('v2')}"
    ) in log


@pytest.mark.parametrize("flag", ["--summary-file", "--output-file"])
@pytest.mark.parametrize("where", ["missing/dir/file", "."], ids=["missing-dir", "a-directory"])
def test_an_unwritable_report_file_is_invalid_input(
    engine_env: Path,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    where: str,
) -> None:
    path = engine_env / where
    code = main(["--image", image("v2"), flag, str(path)])
    log = capsys.readouterr().out
    assert code == 2
    assert f"::error title=Invalid input::{flag}: cannot write {path}: " in log
    assert sandbox.calls() == []
    assert sandbox.image() == GOOD
