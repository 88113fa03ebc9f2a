"""rollback.yml of a static site: its `resolve` step, run with bash against the fake gh over
the GitHub API double, serves a deployment again only when the environment's records show it
went live there (a successful record), and takes the commit to record from that record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.fake_gh import write_fake_gh
from support.generated import GOLDENS
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.workflow_script import StepRun, find_step, run_step

REPO = "acme/api"
TOKEN = "ghs_test_token"
LIVE = [("in_progress", "2024-01-02T00:00:00Z"), ("success", "2024-01-02T00:05:00Z")]
FAILED = [("in_progress", "2024-01-03T00:00:00Z"), ("failure", "2024-01-03T00:05:00Z")]
VERCEL_URL = "https://web-abc123.vercel.app"
CLOUDFLARE_ID = "f64788e9-fccd-4d4a-a28a-cb84f88f6eb5"


@pytest.fixture
def github() -> Iterator[tuple[GitHubApi, list[str]]]:
    state = GitHubState()
    commits = state.add_history(REPO, 3, branch="main")
    with GitHubApi(state, tokens=(TOKEN,)) as api:
        yield api, commits


def _resolve(api: GitHubApi, tmp: Path, scenario: str, wanted: str, env: str) -> StepRun:
    rollback = YAML(typ="safe").load((GOLDENS / f"{scenario}.yml").read_text())["files"]
    step = find_step(rollback[".github/workflows/rollback.yml"], "resolve", "find")
    return run_step(
        step,
        {"inputs.deployment": wanted, "inputs.environment": env, "github.token": TOKEN},
        tmp / "step",
        [write_fake_gh(tmp / "gh", {})],
        {"CDGEN_FAKE_GITHUB_API": api.url, "GITHUB_REPOSITORY": REPO},
    )


def test_a_deployment_that_went_live_there_is_served_again_with_its_commit(
    github: tuple[GitHubApi, list[str]], tmp_path: Path
) -> None:
    api, commits = github
    api.state.add_deployment(REPO, commits[0], "production", LIVE, payload={"image": VERCEL_URL})
    api.state.add_deployment(REPO, commits[1], "production", FAILED, payload={"image": "x"})
    done = _resolve(api, tmp_path, "site-vercel", VERCEL_URL, "production")
    assert done.code == 0, done.stdout + done.stderr
    assert done.outputs == {"deployment": VERCEL_URL, "commit": commits[0]}
    assert f"built from commit `{commits[0]}`" in done.summary


def test_a_deployment_that_never_passed_there_is_refused(
    github: tuple[GitHubApi, list[str]], tmp_path: Path
) -> None:
    api, commits = github
    api.state.add_deployment(
        REPO, commits[1], "production", FAILED, payload={"image": CLOUDFLARE_ID}
    )
    api.state.add_deployment(REPO, commits[2], "staging", LIVE, payload={"image": CLOUDFLARE_ID})
    done = _resolve(api, tmp_path, "site-cloudflare-pages", CLOUDFLARE_ID, "production")
    assert done.code == 1
    assert done.errors == [
        f"{CLOUDFLARE_ID} has no successful deployment record in production: only a deployment "
        "this pipeline made live there can serve again"
    ]


@pytest.mark.parametrize(
    ("scenario", "wanted"),
    [
        ("site-vercel", "https://web.vercel.app/$(id)"),
        ("site-vercel", "web-abc123.vercel.app"),
        ("site-cloudflare-pages", "dpl_abc"),
        ("site-cloudflare-pages", CLOUDFLARE_ID.upper()),
    ],
)
def test_anything_else_is_refused_before_any_request(
    github: tuple[GitHubApi, list[str]], tmp_path: Path, scenario: str, wanted: str
) -> None:
    api, _ = github
    done = _resolve(api, tmp_path, scenario, wanted, "production")
    assert done.code == 1
    assert "is not" in done.errors[0] or "is neither" in done.errors[0]
    assert api.requests == []
