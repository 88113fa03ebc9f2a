"""The site engine when its CLI or Cloudflare's API lies, hangs or dies, and when the run is
cancelled: it reads what is served instead of trusting what it was told, never switches a
deployment it did not make, and ends in the undo path or a loud report."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.site_lab import SiteLab

from cdgen.deploy.cancel import Cancelled
from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK
from cdgen.deploy.site import cloudflare
from cdgen.deploy.smoke import SmokeCheck

from .conftest import CLOUDFLARE_INPUTS, VERCEL_INPUTS, Deploy, own_url_probe

V1 = "https://web-v1.vercel.app"


def _promote(lab: SiteLab, image: str, **inputs: str) -> dict[str, str]:
    smoke = f"{lab.server.url}/vercel/health"
    return {
        **VERCEL_INPUTS,
        "site-production": "true",
        "image": image,
        "smoke-url": smoke,
        **inputs,
    }


def _upload(lab: SiteLab, files: dict[str, str]) -> dict[str, str]:
    site = Path("built")
    site.mkdir(exist_ok=True)
    for name, text in files.items():
        (site / name.lstrip("/")).write_text(text, encoding="utf-8")
    smoke = f"{lab.server.url}/cf/main/health"
    inputs = {"site-branch": "main", "smoke-url": smoke, "site-directory": str(site.resolve())}
    return {**CLOUDFLARE_INPUTS, **inputs}


def test_a_deploy_that_prints_no_url_fails_and_leaves_production_alone(
    lab: SiteLab, deploy: Deploy
) -> None:
    Path(".vercel/output/static").mkdir(parents=True)
    Path(".vercel/output/config.json").write_text("{}", encoding="utf-8")
    Path(".vercel/output/static/health").write_text("ok", encoding="utf-8")
    lab.fail("vercel", "deploy-silent")
    run = deploy(
        {**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"},
        probe=own_url_probe(lab),
    )
    assert run.outcome.result == FAILED
    assert "vercel deploy printed no deployment URL; nothing was changed" in run.log
    assert lab.vercel_live() == V1


def test_an_answer_of_inspect_that_is_not_json_changes_nothing(
    lab: SiteLab, deploy: Deploy
) -> None:
    v2 = lab.add_vercel("web-v2", {"/health": "ok"})
    lab.fail("vercel", "inspect-garbage")
    run = deploy(_promote(lab, v2))
    assert run.outcome.result == FAILED
    assert "unexpected answer from vercel inspect" in run.log
    assert not any(call[0] == "promote" for call in lab.calls())


def test_a_promotion_that_exits_0_but_did_not_take_is_a_failure_not_a_deploy(
    lab: SiteLab, deploy: Deploy
) -> None:
    """`vercel promote` exits 0 when it only queued the promotion (a rolling release) or
    was "Canceled": the live deployment decides, and nothing needs undoing."""
    v2 = lab.add_vercel("web-v2", {"/health": "ok"})
    lab.fail("vercel", "promote-noop")
    run = deploy(_promote(lab, v2))
    assert run.outcome.result == FAILED
    assert f"{v2} did not go live: {V1} is live, left as it is" in run.outcome.reason
    assert not any(call[0] == "rollback" for call in lab.calls())


def test_a_cli_killed_after_its_switch_went_through_is_undone(lab: SiteLab, deploy: Deploy) -> None:
    v2 = lab.add_vercel("web-v2", {"/health": "ok"})
    lab.fail("vercel", "promote-killed")
    run = deploy(_promote(lab, v2))
    assert run.outcome.result == ROLLED_BACK, run.log
    assert "vercel promote failed (exit -9)" in run.outcome.reason
    assert lab.vercel_live() == V1


def test_a_cancellation_after_the_promotion_asks_for_the_rollback_at_once(
    lab: SiteLab, deploy: Deploy
) -> None:
    v2 = lab.add_vercel("web-v2", {"/health": "ok"})

    def cancelled(check: SmokeCheck) -> tuple[bool, str]:
        raise Cancelled(signal.SIGTERM)

    run = deploy(_promote(lab, v2), probe=cancelled)
    assert run.outcome.signal == signal.SIGTERM and run.outcome.result == FAILED
    assert lab.calls()[-1] == ["rollback", V1, "--timeout=0s", "--scope", "team_Acme12345"]
    assert lab.vercel_live() == V1
    assert "was requested, not waited for. If it did not go through, run: " in run.log
    assert run.outcome.manual_commands and V1 in run.outcome.manual_commands[0]


def test_a_cancellation_before_anything_changed_changes_nothing(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    Path(".vercel/output/static").mkdir(parents=True)
    Path(".vercel/output/config.json").write_text("{}", encoding="utf-8")

    def cancelled(check: SmokeCheck) -> tuple[bool, str]:
        raise Cancelled(signal.SIGINT)

    run = deploy(
        {**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"},
        probe=cancelled,
        github=github,
    )
    assert run.outcome.signal == signal.SIGINT
    assert not any(call[0] in ("promote", "rollback") for call in lab.calls())
    assert lab.vercel_live() == V1
    (record,) = github.state.repos["acme/web"].deployments.values()
    last = record.statuses[-1]
    made = "https://web-2.vercel.app"
    assert (last.state, last.description) == ("failure", f"cancelled before {made} went live")


def test_an_upload_whose_output_is_lost_is_looked_at_and_undone(
    lab: SiteLab, deploy: Deploy
) -> None:
    before = lab.cloudflare_canonical()
    lab.fail("cloudflare", "upload-silent")
    run = deploy(_upload(lab, {"/health": "ok"}))
    assert run.outcome.result == ROLLED_BACK, run.log
    assert "wrangler pages deploy failed (printed no deployment)" in run.outcome.reason
    assert lab.cloudflare_canonical() == before


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("not-json", "HTTP 200"),
        ("success-false", "HTTP 200"),
        ("redirect", "HTTP 302"),
        ("slow", "no answer within 1s"),
    ],
)
def test_an_api_that_lies_or_hangs_changes_nothing(
    lab: SiteLab, deploy: Deploy, monkeypatch: pytest.MonkeyPatch, fault: str, said: str
) -> None:
    monkeypatch.setattr(cloudflare, "READ_SECONDS", 1)
    with lab.state.change() as state:
        state["cloudflare"]["api_fault"] = fault
    run = deploy(_upload(lab, {"/health": "ok"}))
    assert run.outcome.result == FAILED
    assert said in run.log and "nothing was changed" in run.log
    assert lab.calls() == []  # no upload before the project could be read


def test_a_healthy_upload_after_a_slow_answer_within_its_time(
    lab: SiteLab, deploy: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloudflare, "READ_SECONDS", 10)
    with lab.state.change() as state:
        state["cloudflare"]["api_fault"] = "slow"
    run = deploy(_upload(lab, {"/health": "ok"}))
    assert run.outcome.result == DEPLOYED, run.log


def test_a_directory_without_files_is_refused_before_the_upload(
    lab: SiteLab, deploy: Deploy
) -> None:
    inputs = _upload(lab, {})
    run = deploy(inputs)
    assert run.outcome.result == FAILED
    assert "is not a directory of built files; nothing was changed" in run.log
    assert lab.calls() == []
