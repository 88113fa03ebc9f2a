"""A Cloudflare Pages site's generated cd.yml, unchanged, under act: the build job builds once
and keeps the files as an artifact; staging uploads them to its branch (a preview) with the
pinned wrangler, production to the production branch; production's smoke test (which wants
the commit) fails on a build that does not show it, and the production deployment is rolled
back through the fake of Cloudflare's API. The records go to the GitHub API double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.site_lab import SiteLab, start_site_lab
from support.site_state import CLOUDFLARE_ACCOUNT, CLOUDFLARE_PROJECT, CLOUDFLARE_TOKEN

from .conftest import ACTION_REF
from .site_pipeline import github_double, records, render_cd, run_pipeline

pytestmark = pytest.mark.slow

DESCRIPTOR = """\
version: 1
name: web
site:
  provider: cloudflare-pages
  project: {project}
  account-id: {account}
  install: "true"
  build: bash build.sh
environments:
  - name: staging
    url: {url}/staging
    smoke: {{ path: /health, retries: 1, interval: 1s }}
  - name: production
    url: {url}/main
    approval: reviewers
    smoke: {{ path: /health, retries: 1, interval: 1s, expect-version: true }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
# The site's build: its files into dist/, the commit into /health (or, broken, not).
BUILD = "mkdir -p dist\ncp -R public/. dist/\n"
SHOWS_COMMIT = BUILD + 'echo "$GITHUB_SHA" >> dist/health\n'


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
    text = DESCRIPTOR.format(
        project=CLOUDFLARE_PROJECT,
        account=CLOUDFLARE_ACCOUNT,
        url=f"{lab.server.url}/cf",
        ref=ACTION_REF,
    )
    return render_cd(tmp_path / "render", text)


def _uploads(lab: SiteLab) -> list[tuple[str, str]]:
    """(branch, commit) of each upload, in order."""
    found = []
    for call in lab.calls():
        if call[:2] == ["pages", "deploy"]:
            flags = dict(arg.removeprefix("--").split("=", 1) for arg in call[3:])
            found.append((flags["branch"], flags["commit-hash"]))
    return found


def test_the_site_built_once_goes_to_staging_then_production(
    lab: SiteLab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    site = {"build.sh": SHOWS_COMMIT, "public/health": "ok\n", "public/.well-known/x": "x\n"}
    run, sha = run_pipeline(lab, action_checkout, tmp_path, workflow, github, site)
    assert run.code == 0, run.log
    assert _uploads(lab) == [("staging", sha), ("main", sha)]
    deployments = lab.state.read()["cloudflare"]["deployments"]
    production, staging = deployments[0], deployments[1]
    assert production["id"] == lab.cloudflare_canonical()
    assert production["files"] == staging["files"]  # the same built files, hidden ones too
    assert production["files"]["/.well-known/x"] == "x\n"
    assert records(github) == {
        "staging": [(sha, staging["id"], ["in_progress", "success"])],
        "production": [(sha, production["id"], ["in_progress", "success"])],
    }
    assert CLOUDFLARE_TOKEN not in run.log


def test_a_failed_smoke_test_rolls_production_back_through_the_api(
    lab: SiteLab, action_checkout: Path, tmp_path: Path, workflow: dict[str, Any], github: GitHubApi
) -> None:
    before = lab.cloudflare_canonical()
    site = {"build.sh": BUILD, "public/health": "ok\n"}
    run, sha = run_pipeline(lab, action_checkout, tmp_path, workflow, github, site)
    assert run.job_succeeded("deploy-staging") and run.job_failed("deploy-production"), run.log
    assert lab.cloudflare_canonical() == before
    rollback = f"POST {CLOUDFLARE_PROJECT}/deployments/{before}/rollback"
    assert rollback in lab.cloudflare_requests()
    uploaded = lab.state.read()["cloudflare"]["deployments"][0]["id"]
    assert records(github)["production"] == [(sha, uploaded, ["in_progress", "failure"])]
    summary = run.summary("deploy-production")
    assert f"| Live deployment now | `{before}` |" in summary
    assert "version " + sha + " not shown" in summary
