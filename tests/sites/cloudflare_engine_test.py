"""The site engine on Cloudflare Pages, against the strict wrangler stand-in and the fake of
Cloudflare's API: upload the built files to a branch, smoke-test, and roll a production
deployment back through the API when its smoke test fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.site_lab import PINS, SiteLab
from support.site_state import CLOUDFLARE_TOKEN

from cdgen.deploy.options import InvalidInputsError
from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK, SKIPPED, VERIFIED

from .conftest import CLOUDFLARE_INPUTS, COMMIT, Deploy, statuses

PROJECT = "acme-web"


def _built(files: dict[str, str]) -> str:
    """The site as the build job left it (the artifact every environment uploads)."""
    site = Path("built")
    site.mkdir()
    for name, text in files.items():
        (site / name.lstrip("/")).write_text(text, encoding="utf-8")
    return str(site.resolve())


def _inputs(lab: SiteLab, branch: str = "main", **inputs: str) -> dict[str, str]:
    smoke = f"{lab.server.url}/cf/{branch}/health"
    return {**CLOUDFLARE_INPUTS, "site-branch": branch, "smoke-url": smoke, **inputs}


def test_production_uploads_the_built_files_and_verifies_them(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    before = lab.cloudflare_canonical()
    directory = _built({"/health": "ok v2", "/index.html": "<h1>v2</h1>"})
    run = deploy(_inputs(lab, **{"site-directory": directory}), github=github)
    assert run.outcome.result == DEPLOYED, run.log
    new = lab.cloudflare_canonical()
    assert new != before
    assert (run.outcome.previous_image, run.outcome.deployed_image) == (before, new)
    assert lab.calls() == [
        ["--version"],
        [
            "pages",
            "deploy",
            directory,
            f"--project-name={PROJECT}",
            "--branch=main",
            f"--commit-hash={COMMIT}",
            "--commit-dirty=false",
        ],
    ]
    assert lab.cloudflare_requests() == [f"GET {PROJECT}"] * 3  # prepare, read, check
    assert statuses(github) == [("production", "in_progress,success", new)]


def test_a_failed_smoke_test_in_production_rolls_back_through_the_api(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    before = lab.cloudflare_canonical()
    directory = _built({"/index.html": "no health"})
    run = deploy(_inputs(lab, **{"site-directory": directory}), github=github)
    assert run.outcome.result == ROLLED_BACK, run.log
    assert lab.cloudflare_canonical() == before
    assert f"POST {PROJECT}/deployments/{before}/rollback" in lab.cloudflare_requests()
    assert run.outcome.deployed_image == before
    uploaded = run.outcome.image
    assert statuses(github) == [("production", "in_progress,failure", uploaded)]


def test_a_preview_that_fails_its_smoke_test_is_not_rolled_back(
    lab: SiteLab, deploy: Deploy
) -> None:
    directory = _built({"/index.html": "no health"})
    run = deploy(_inputs(lab, "staging", environment="staging", **{"site-directory": directory}))
    assert run.outcome.result == FAILED
    assert "nothing to roll back" in run.outcome.note
    assert not [r for r in lab.cloudflare_requests() if r.startswith("POST")]


def test_a_rollback_the_api_refuses_is_loud_and_names_the_request(
    lab: SiteLab, deploy: Deploy
) -> None:
    before = lab.cloudflare_canonical()
    lab.fail("cloudflare", "rollback")
    run = deploy(_inputs(lab, **{"site-directory": _built({"/index.html": "x"})}))
    assert run.outcome.result == FAILED and run.outcome.degraded
    assert "HTTP 500: An unknown error occurred. [8000000]" in run.outcome.reason
    (command,) = run.outcome.manual_commands
    assert command.startswith('curl -X POST -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" ')
    assert command.endswith(f"/pages/projects/{PROJECT}/deployments/{before}/rollback")
    assert CLOUDFLARE_TOKEN not in command


def test_a_rollback_to_a_preview_is_refused_by_cloudflare_and_changes_nothing(
    lab: SiteLab, deploy: Deploy
) -> None:
    before = lab.cloudflare_canonical()
    deploy(_inputs(lab, "staging", **{"site-directory": _built({"/health": "ok"})}))
    preview = lab.state.read()["cloudflare"]["deployments"][0]["id"]
    run = deploy(_inputs(lab, mode="rollback", image=preview))
    assert run.outcome.result == FAILED
    assert "You can only rollback to successful builds on production. [8000034]" in run.log
    assert not run.outcome.degraded
    assert lab.cloudflare_canonical() == before


def test_a_rollback_serves_an_earlier_production_deployment_again(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    before = lab.cloudflare_canonical()
    deploy(_inputs(lab, **{"site-directory": _built({"/health": "ok v2"})}), github=github)
    newer = lab.cloudflare_canonical()
    calls = len(lab.calls())
    inputs = _inputs(lab, mode="rollback", image=before, **{"only-if-live": newer})
    run = deploy(inputs, github=github)
    assert run.outcome.result == ROLLED_BACK, run.log
    assert lab.cloudflare_canonical() == before
    assert len(lab.calls()) == calls  # only the API: a rollback never waits on npm
    # A rollback's record is task rollback: a promotion check never takes it for a deploy.
    tasks = [
        (d.task, d.payload["image"]) for d in github.state.repos["acme/web"].deployments.values()
    ]
    assert tasks == [("deploy", newer), ("rollback", before)]


def test_a_rollback_leaves_a_newer_deployment_alone(lab: SiteLab, deploy: Deploy) -> None:
    gone = "00000000-0000-4000-8000-000000000000"
    run = deploy(
        _inputs(lab, mode="rollback", image=lab.cloudflare_canonical(), **{"only-if-live": gone})
    )
    assert run.outcome.result == SKIPPED
    assert not [r for r in lab.cloudflare_requests() if r.startswith("POST")]


@pytest.mark.parametrize("branch", ["main", "staging"])
def test_verify_reads_what_the_branch_serves(lab: SiteLab, deploy: Deploy, branch: str) -> None:
    deploy(_inputs(lab, branch, **{"site-directory": _built({"/health": "ok"})}))
    made = lab.state.read()["cloudflare"]["deployments"][0]["id"]
    assert deploy(_inputs(lab, branch, mode="verify", image=made)).outcome.result == VERIFIED
    older = lab.state.read()["cloudflare"]["deployments"][1]["id"]
    assert deploy(_inputs(lab, branch, mode="verify", image=older)).outcome.result == FAILED


def test_a_wrong_token_changes_nothing(lab: SiteLab, deploy: Deploy) -> None:
    inputs = _inputs(lab, **{"site-directory": _built({"/health": "ok"}), "site-token": "nope"})
    run = deploy(inputs)
    assert run.outcome.result == FAILED
    assert (
        "HTTP 403 (the token is wrong, expired, or lacks Cloudflare Pages: Edit on the account): Authentication error [10000]"
        in run.log
    )
    assert lab.calls() == []


def test_the_api_is_only_reached_over_https_or_loopback(lab: SiteLab, deploy: Deploy) -> None:
    env = {"CLOUDFLARE_API_BASE_URL": "http://api.example.com/client/v4"}
    run = deploy(_inputs(lab, **{"site-directory": _built({"/health": "ok"})}), env=env)
    assert run.outcome.result == FAILED
    assert "CLOUDFLARE_API_BASE_URL must be an https URL (the API token is sent there)" in run.log
    assert lab.calls() == [] and lab.cloudflare_requests() == []


def test_the_pinned_wrangler_is_what_runs(lab: SiteLab, deploy: Deploy) -> None:
    deploy(_inputs(lab, **{"site-directory": _built({"/health": "ok"})}))
    assert {call["argv"][2] for call in lab.call_records()} == {f"wrangler@{PINS['wrangler']}"}


def test_mode_deploy_uploads_and_has_nothing_to_promote(lab: SiteLab, deploy: Deploy) -> None:
    with pytest.raises(InvalidInputsError, match="image"):
        deploy(_inputs(lab, image=lab.cloudflare_canonical()))
