"""A Vercel site's generated cd.yml, unchanged, under act: staging's job pulls the project's
settings, builds once for production and deploys the prebuilt output where no domain serves
it; production's job promotes that deployment (never a rebuild), smoke-tests it, and rolls
production back to the deployment it served before when the smoke test fails. The Vercel
CLI is the strict stand-in; the records go to the GitHub API double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.site_lab import SiteLab, start_site_lab
from support.site_state import VERCEL_ORG, VERCEL_PROJECT, VERCEL_TOKEN

from .conftest import ACTION_REF, ActRun
from .site_pipeline import github_double, records, render_cd, run_pipeline

pytestmark = pytest.mark.slow

DESCRIPTOR = """\
version: 1
name: web
site: {{ provider: vercel, project: {project}, org-id: {org} }}
environments:
  - name: staging
  - name: production
    url: {url}
    approval: reviewers
    smoke: {{ path: /health, retries: 1, interval: 1s }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
V1 = "https://web-v1.vercel.app"
V2 = "https://web-2.vercel.app"
SCOPE = ["--scope", VERCEL_ORG]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[SiteLab]:
    started = start_site_lab(tmp_path / "lab")
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    yield from github_double()


@pytest.fixture
def workflow(lab: SiteLab, tmp_path: Path) -> dict[str, Any]:
    url = f"{lab.server.url}/vercel"
    text = DESCRIPTOR.format(project=VERCEL_PROJECT, org=VERCEL_ORG, url=url, ref=ACTION_REF)
    return render_cd(tmp_path / "render", text)


def _run(
    lab: SiteLab,
    checkout: Path,
    tmp: Path,
    workflow: dict[str, Any],
    api: GitHubApi,
    site: dict[str, str],
) -> tuple[ActRun, str, list[list[str]]]:
    run, sha = run_pipeline(lab, checkout, tmp, workflow, api, site)
    assert VERCEL_TOKEN not in run.log
    return run, sha, lab.calls()


def test_the_tested_deployment_is_promoted(
    lab: SiteLab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    run, sha, calls = _run(
        lab, action_checkout, tmp_path, workflow, github, {"public/health": "ok v2\n"}
    )
    assert run.code == 0, run.log
    assert run.job_succeeded("deploy-production"), run.log
    assert calls == [
        ["pull", "--yes", "--environment=production"],
        ["build", "--prod"],
        ["--version"],
        ["deploy", "--prebuilt", "--prod", "--skip-domain"],
        ["--version"],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
        ["promote", V2, "--timeout=300s", *SCOPE],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
    ]
    assert lab.vercel_live() == V2
    assert records(github) == {
        "staging": [(sha, V2, ["in_progress", "success"])],
        "production": [(sha, V2, ["in_progress", "success"])],
    }


def test_a_failed_smoke_test_rolls_production_back(
    lab: SiteLab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    run, sha, calls = _run(
        lab, action_checkout, tmp_path, workflow, github, {"public/index.html": "no health\n"}
    )
    assert run.job_succeeded("deploy-staging") and run.job_failed("deploy-production"), run.log
    summary = run.summary("deploy-production")
    assert "| Live deployment now | `https://web-v1.vercel.app` |" in summary
    assert "| Outcome | **rolled-back** |" in summary
    assert calls[-3:] == [
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
        ["rollback", V1, "--timeout=300s", *SCOPE],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
    ]
    assert lab.vercel_live() == V1
    assert records(github) == {
        "staging": [(sha, V2, ["in_progress", "success"])],
        "production": [(sha, V2, ["in_progress", "failure"])],
    }
