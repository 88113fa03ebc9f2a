"""The generated metrics workflow: monthly, read-only, cdgen pinned like the drift check, and
its report step, run with bash against the GitHub API double, reports the previous calendar
month into the job summary. `metrics: false` generates none."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import ARTICLE, render_descriptor
from support.github_api import GitHubApi
from support.github_state import GitHubState, iso
from support.workflow_script import run_step

REPO = "acme/api"
TOKEN = "ghs_metrics_0b1f"
METRICS = ".github/workflows/metrics.yml"


def _previous_month(now: datetime) -> tuple[datetime, datetime]:
    until = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = (until - timedelta(days=1)).replace(day=1)
    return since, until


@pytest.fixture
def workflow(tmp_path: Path) -> dict[str, Any]:
    files = render_descriptor(tmp_path, ARTICLE)
    loaded: dict[str, Any] = YAML(typ="safe").load(files[METRICS])
    return loaded


def test_monthly_read_only_and_pinned(workflow: dict[str, Any]) -> None:
    assert workflow["on"]["schedule"] == [{"cron": "17 6 1 * *"}]
    assert "workflow_dispatch" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "deployments": "read"}
    checkout, install, report = job["steps"]
    assert checkout["with"]["repository"] == "cdgen-dev/cdgen"
    assert "--require-hashes" in install["run"]
    assert report["env"]["ENVIRONMENT"] == "production"  # the last environment
    assert '--format markdown >> "$GITHUB_STEP_SUMMARY"' in report["run"]


def test_metrics_false_generates_no_workflow(tmp_path: Path) -> None:
    files = render_descriptor(tmp_path, ARTICLE + "metrics: false\n")
    assert METRICS not in files
    assert len(files) == 5


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[TOKEN]) as api:
        yield api


def test_the_report_step_covers_the_previous_calendar_month(
    workflow: dict[str, Any], github: GitHubApi, tmp_path: Path
) -> None:
    since, until = _previous_month(datetime.now(UTC))
    state = github.state
    (older, inside) = state.add_history(
        REPO, 2, start=iso(since - timedelta(days=3)), step=timedelta(days=2)
    )
    state.add_deployment(REPO, older, "production", [("success", iso(since - timedelta(days=2)))])
    state.add_deployment(
        REPO,
        inside,
        "production",
        [
            ("in_progress", iso(since + timedelta(hours=1))),
            ("success", iso(since + timedelta(hours=2))),
        ],
    )
    state.add_deployment(
        REPO,
        inside,
        "production",
        [("in_progress", iso(until)), ("success", iso(until + timedelta(hours=1)))],
    )  # next month: not counted
    runner_temp = tmp_path / "runner"
    shim = runner_temp / "cdgen" / "bin" / "cdgen"
    shim.parent.mkdir(parents=True)
    generator = Path(__file__).resolve().parents[1] / "generator"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{generator}" exec "{sys.executable}" -m cdgen "$@"\n')
    shim.chmod(0o755)
    step = find_step_by_name(workflow, "Report the previous calendar month")
    done = run_step(
        step,
        {"github.token": TOKEN},
        tmp_path / "work",
        [],
        {
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": github.url,
            "CDGEN_BUILD_STAMP": os.environ["CDGEN_BUILD_STAMP"],
        },
    )
    assert done.code == 0, done.stdout + done.stderr
    last = until - timedelta(days=1)
    assert done.summary.startswith("## DORA metrics: acme/api, production\n")
    assert f"{since:%Y-%m-%d} to {last:%Y-%m-%d} ({last.day} days, UTC)." in done.summary
    assert "1 successful on 1 day |" in done.summary  # the next month's deploy is not counted
    assert "median 1d 2h, p90 1d 2h over 1 commit" in done.summary  # committed a day before


def find_step_by_name(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (job,) = workflow["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    return step  # type: ignore[no-any-return]
