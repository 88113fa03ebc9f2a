"""GitHub's limits: a pipeline that would cross one is refused, naming it, with nothing
written."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdgen.cli import main
from cdgen.limits import JOB_MINUTES, WORKFLOW_FILE_BYTES


def _write(repo: Path, environments: str) -> None:
    (repo / "cdgen.yml").write_text(
        "version: 1\nname: api\nenvironments:\n" + environments, encoding="utf-8"
    )


def test_a_deploy_job_over_six_hours_is_refused_at_its_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path,
        "  - name: prod\n    url: https://example.com\n"
        "    kubernetes: { namespace: prod, rollout-timeout: 2h }\n"
        "    smoke: { path: /health, retries: 100, interval: 1m }\n",
    )
    assert main(["generate", "--config", str(tmp_path / "cdgen.yml")]) == 1
    err = capsys.readouterr().err
    assert "cdgen.yml:4:11: environments[0]: the deploy job of 'prod' could take 378 minutes" in err
    assert f"6-hour limit for a job on a GitHub-hosted runner ({JOB_MINUTES} minutes" in err
    assert not (tmp_path / ".github").exists()


def test_just_under_six_hours_is_accepted(tmp_path: Path) -> None:
    """15m lock wait + 2 x 2h rollout + 85 x (1m + 10s) smoke + 5m: 360 minutes exactly."""
    _write(
        tmp_path,
        "  - name: prod\n    url: https://example.com\n"
        "    kubernetes: { namespace: prod, rollout-timeout: 2h }\n"
        "    smoke: { path: /health, retries: 84, interval: 1m }\n",
    )
    assert main(["generate", "--config", str(tmp_path / "cdgen.yml")]) == 0
    cd = (tmp_path / ".github/workflows/cd.yml").read_text()
    assert "timeout-minutes: 360" in cd


def test_a_workflow_file_over_500_kb_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environments = "".join(
        f"  - name: env{i}\n    url: https://e{i}.example.com\n    kubernetes: {{ namespace: n{i} }}\n"
        f"    smoke: {{ path: /health }}\n    e2e: {{ run: npm test, rollback-on-failure: true }}\n"
        for i in range(200)
    )
    _write(tmp_path, environments)
    assert main(["generate", "--config", str(tmp_path / "cdgen.yml")]) == 1
    err = capsys.readouterr().err
    assert ".github/workflows/cd.yml would be " in err
    assert "over GitHub's limit of 500 KB for a workflow file" in err
    assert int(err.split(" would be ")[1].split(" bytes")[0].replace(",", "")) > WORKFLOW_FILE_BYTES
    assert not (tmp_path / ".github").exists()
