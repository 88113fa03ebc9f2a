"""Fixtures for the site engine: a site lab (the strict npx stand-in, Cloudflare's API fake,
the live sites) and a runner of the engine, in-process, against it."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.site_lab import SiteLab, start_site_lab
from support.site_state import (
    CLOUDFLARE_ACCOUNT,
    CLOUDFLARE_PROJECT,
    CLOUDFLARE_TOKEN,
    VERCEL_ORG,
    VERCEL_PROJECT,
    VERCEL_TOKEN,
)

from cdgen.deploy.console import Console
from cdgen.deploy.inputs import INPUTS
from cdgen.deploy.options import parse_options
from cdgen.deploy.outcome import Outcome
from cdgen.deploy.records import Records
from cdgen.deploy.records_target import target_from_environ
from cdgen.deploy.site.run import build_site_engine
from cdgen.deploy.smoke import Probe, SmokeCheck, probe_url

REPO = "acme/web"
GITHUB_TOKEN = "ghs_site_records_5d1e"
COMMIT = "c" * 40


@dataclass
class SiteRun:
    outcome: Outcome
    log: str
    records: Records | None


Deploy = Callable[..., SiteRun]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteLab]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    started = start_site_lab(tmp_path / "lab")
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def github() -> Iterator[GitHubApi]:
    state = GitHubState()
    state.add_commit(REPO, "2026-01-01T00:00:00Z", sha=COMMIT, branch="main")
    with GitHubApi(state, tokens=[GITHUB_TOKEN]) as api:
        yield api


def own_url_probe(lab: SiteLab) -> Probe:
    """The smoke test of a Vercel deployment at its own https URL, answered from the lab's
    state (no TLS server here); any other URL is fetched for real."""

    def probe(check: SmokeCheck) -> tuple[bool, str]:
        if not check.url.startswith("https://"):
            return probe_url(check)
        host, _, path = check.url.removeprefix("https://").partition("/")
        found = lab.state.read()["vercel"]["deployments"].get(host)
        files = (found or {}).get("files", {})
        return ("/" + path in files, "HTTP 200" if "/" + path in files else "HTTP 404")

    return probe


VERCEL_INPUTS = {
    "target": "vercel",
    "site-project": VERCEL_PROJECT,
    "site-account": VERCEL_ORG,
    "site-token": VERCEL_TOKEN,
}
CLOUDFLARE_INPUTS = {
    "target": "cloudflare-pages",
    "site-project": CLOUDFLARE_PROJECT,
    "site-account": CLOUDFLARE_ACCOUNT,
    "site-token": CLOUDFLARE_TOKEN,
}


@pytest.fixture
def deploy(lab: SiteLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deploy:
    """Run the site engine against the lab: the inputs as the action gives them, from a
    working directory of its own (the job's workspace)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def invoke(
        inputs: dict[str, str],
        *,
        github: GitHubApi | None = None,
        probe: Probe | None = None,
        env: dict[str, str] | None = None,
    ) -> SiteRun:
        raw = {spec.name: "" for spec in INPUTS}
        raw.update({"environment": "production", "smoke-retries": "0", "smoke-interval": "0s"})
        raw.update({"smoke-timeout": "2s", "rollout-timeout": "30s", **inputs})
        environ = {**os.environ, **lab.env(), "RUNNER_TEMP": str(tmp_path), **(env or {})}
        if github is not None:
            raw.update({"github-token": GITHUB_TOKEN, "commit": COMMIT})
            environ.update({"GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": REPO})
        options = parse_options(raw)
        stream = io.StringIO()
        console = Console(stream, github=True)
        records = None
        if github is not None:
            target = target_from_environ(
                environ,
                token=GITHUB_TOKEN,
                environment=options.environment,
                environment_url=options.recording.environment_url,
                commit=COMMIT,
            )
            records = Records(target, lambda text: console.warning(text, "Deployment record"))
        engine = build_site_engine(options, console, records, environ)
        if probe is not None:
            engine.probe = probe
        outcome = engine.run()
        return SiteRun(outcome, stream.getvalue(), records)

    return invoke


def statuses(api: GitHubApi) -> list[tuple[str, str, Any]]:
    """Every deployment record: (environment, its states, its payload's image)."""
    found = []
    for deployment in api.state.repos[REPO].deployments.values():
        states = ",".join(status.state for status in deployment.statuses)
        found.append((deployment.environment, states, deployment.payload.get("image")))
    return found
