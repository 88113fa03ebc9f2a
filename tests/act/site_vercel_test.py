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
from support.vercel_edge import Certificates, VercelEdge, make_certificates, start_edge

from .conftest import ACTION_REF, ActRun
from .site_pipeline import github_double, records, render_cd, run_pipeline

pytestmark = pytest.mark.slow

DESCRIPTOR = """\
version: 1
name: web
site: {{ provider: vercel, project: {project}, org-id: {org}, install: "true" }}
environments:
  - name: staging
    smoke: {{ path: /health, retries: 1, interval: 1s }}
    e2e: {{ run: python3 e2e.py }}
  - name: production
    url: {url}
    approval: reviewers
    smoke: {{ path: /live, retries: 1, interval: 1s }}
action: {{ ref: {ref}, version: v1.0.0 }}
"""
# The end-to-end tests: the deployment at its own URL (BASE_URL), through the edge.
E2E = """\
import os, urllib.request
answer = urllib.request.urlopen(os.environ["BASE_URL"] + "/health").read().decode()
print("e2e: " + os.environ["BASE_URL"] + " answers " + answer.strip())
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


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def edge(lab: SiteLab, certificates: Certificates) -> Iterator[VercelEdge]:
    started = start_edge(lab.state, certificates)
    yield started
    started.shutdown()
    started.server_close()


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
    edge: VercelEdge,
    checkout: Path,
    tmp: Path,
    workflow: dict[str, Any],
    api: GitHubApi,
    site: dict[str, str],
) -> tuple[ActRun, str, list[list[str]]]:
    reach = {"https_proxy": edge.proxy, "no_proxy": "127.0.0.1,localhost"}
    reach["SSL_CERT_FILE"] = str(edge.ca)
    run, sha = run_pipeline(
        lab, checkout, tmp, workflow, api, {**site, "e2e.py": E2E}, job_env=reach
    )
    assert VERCEL_TOKEN not in run.log
    return run, sha, lab.calls()


def test_the_tested_deployment_is_promoted(
    lab: SiteLab,
    edge: VercelEdge,
    action_checkout: Path,
    tmp_path: Path,
    workflow: dict[str, Any],
    github: GitHubApi,
) -> None:
    site = {"public/health": "ok v2\n", "public/live": "live\n"}
    run, sha, calls = _run(lab, edge, action_checkout, tmp_path, workflow, github, site)
    assert run.code == 0, run.log
    assert run.job_succeeded("deploy-production"), run.log
    assert calls == [
        ["pull", "--yes", "--environment=production"],
        ["build", "--prod"],
        ["--version"],
        ["deploy", "--prebuilt", "--prod", "--skip-domain"],
        ["--version"],  # the check that this run's deployment is the one tested
        ["--version"],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
        ["promote", V2, "--timeout=300s", *SCOPE],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
    ]
    assert lab.vercel_live() == V2
    # Staging tested the deployment at its own URL: the smoke test, the check, the tests.
    assert [seen[:2] for seen in edge.seen] == [("web-2.vercel.app", "/health")] * 3
    assert f"e2e: {V2} answers ok v2" in run.log
    assert records(github) == {
        "staging": [(sha, V2, ["in_progress", "success"])],
        "production": [(sha, V2, ["in_progress", "success"])],
    }


def test_a_failed_smoke_test_rolls_production_back(
    lab: SiteLab,
    edge: VercelEdge,
    action_checkout: Path,
    tmp_path: Path,
    workflow: dict[str, Any],
    github: GitHubApi,
) -> None:
    site = {"public/health": "ok v2\n"}  # no /live: production's smoke test fails
    run, sha, calls = _run(lab, edge, action_checkout, tmp_path, workflow, github, site)
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
