"""The site engine on Vercel, against the strict CLI stand-in: deploy the prebuilt output
where no domain serves it, test it at its own URL, promote it, and switch production back
when its smoke test fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.site_lab import PINS, SiteLab
from support.site_state import VERCEL_ORG, VERCEL_TOKEN

from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK, SKIPPED, VERIFIED

from .conftest import VERCEL_INPUTS, Deploy, own_url_probe, statuses

SCOPE = ["--scope", VERCEL_ORG]
V1 = "https://web-v1.vercel.app"


def _prebuilt(files: dict[str, str]) -> None:
    """What `vercel build --prod` leaves in the working directory."""
    static = Path(".vercel/output/static")
    static.mkdir(parents=True)
    Path(".vercel/output/config.json").write_text('{"version": 3}', encoding="utf-8")
    for name, text in files.items():
        (static / name.lstrip("/")).write_text(text, encoding="utf-8")


def _production(lab: SiteLab, **inputs: str) -> dict[str, str]:
    smoke = f"{lab.server.url}/vercel/health"
    return {**VERCEL_INPUTS, "site-production": "true", "smoke-url": smoke, **inputs}


def test_the_prebuilt_output_is_deployed_where_no_domain_serves_it_and_tested_there(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    _prebuilt({"/health": "ok v2"})
    run = deploy(
        {**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"},
        github=github,
        probe=own_url_probe(lab),
    )
    made = "https://web-2.vercel.app"
    assert run.outcome.result == DEPLOYED, run.log
    assert run.outcome.deployed_image == made
    assert lab.calls() == [["--version"], ["deploy", "--prebuilt", "--prod", "--skip-domain"]]
    assert lab.vercel_live() == V1  # production is untouched
    assert run.outcome.smoke[-1][2] == "HTTP 200"
    assert statuses(github) == [("staging", "in_progress,success", made)]
    (record,) = github.state.repos["acme/web"].deployments.values()
    assert record.statuses[-1].environment_url == made  # its own URL, the only one it has


def test_a_deployment_that_fails_at_its_own_url_is_failed_with_nothing_to_roll_back(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    _prebuilt({"/index.html": "no health here"})
    run = deploy(
        {**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"},
        github=github,
        probe=own_url_probe(lab),
    )
    assert run.outcome.result == FAILED
    assert "nothing to roll back" in run.outcome.note
    assert [call[0] for call in lab.calls()] == ["--version", "deploy"]  # no rollback
    assert lab.vercel_live() == V1
    assert statuses(github)[0][1] == "in_progress,failure"


def test_production_promotes_the_tested_deployment(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    v2 = lab.add_vercel("web-v2", {"/health": "ok v2"})
    run = deploy(_production(lab, image=v2), github=github)
    assert run.outcome.result == DEPLOYED, run.log
    assert (run.outcome.previous_image, run.outcome.deployed_image) == (V1, v2)
    assert lab.calls() == [
        ["--version"],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
        ["promote", v2, "--timeout=30s", *SCOPE],
        ["inspect", "127.0.0.1", "--format=json", *SCOPE],
    ]
    assert lab.vercel_live() == v2
    assert statuses(github) == [("production", "in_progress,success", v2)]


def test_a_failed_smoke_test_in_production_rolls_back_to_the_deployment_served_before(
    lab: SiteLab, deploy: Deploy, github: GitHubApi
) -> None:
    broken = lab.add_vercel("web-broken", {"/index.html": "no health"})
    run = deploy(_production(lab, image=broken), github=github)
    assert run.outcome.result == ROLLED_BACK
    assert run.outcome.deployed_image == V1
    assert ["rollback", V1, "--timeout=30s", *SCOPE] in lab.calls()
    assert lab.vercel_live() == V1
    assert statuses(github) == [("production", "in_progress,failure", broken)]
    assert "::error title=Rolled back::" in run.log


def test_a_promotion_that_fails_and_changed_nothing_is_not_rolled_back(
    lab: SiteLab, deploy: Deploy
) -> None:
    v2 = lab.add_vercel("web-v2", {"/health": "ok"})
    lab.fail("vercel", "promote")
    run = deploy(_production(lab, image=v2))
    assert run.outcome.result == FAILED
    assert not run.outcome.degraded
    assert "still live, nothing was changed" in run.log
    assert not any(call[0] == "rollback" for call in lab.calls())
    assert lab.vercel_live() == V1


def test_a_rollback_that_fails_is_loud_and_names_the_command(lab: SiteLab, deploy: Deploy) -> None:
    broken = lab.add_vercel("web-broken", {})
    lab.fail("vercel", "rollback")
    run = deploy(_production(lab, image=broken))
    assert run.outcome.result == FAILED
    assert run.outcome.degraded
    command = f"npx --yes vercel@{PINS['vercel']} rollback {V1} --scope {VERCEL_ORG}"
    assert command in run.outcome.manual_commands[0]
    assert "ROLLBACK FAILED" in run.log
    assert lab.vercel_live() == broken


def test_a_rollback_leaves_a_newer_deployment_alone(lab: SiteLab, deploy: Deploy) -> None:
    ours = lab.add_vercel("web-ours", {"/health": "ok"})
    run = deploy(_production(lab, mode="rollback", image=V1, **{"only-if-live": ours}))
    assert run.outcome.result == SKIPPED
    assert not any(call[0] == "rollback" for call in lab.calls())


@pytest.mark.parametrize(("live", "result"), [(True, VERIFIED), (False, FAILED)])
def test_verify_checks_which_deployment_production_serves(
    lab: SiteLab, deploy: Deploy, live: bool, result: str
) -> None:
    other = lab.add_vercel("web-other", {"/health": "ok"})
    run = deploy(_production(lab, mode="verify", image=V1 if live else other))
    assert run.outcome.result == result, run.log
    assert not any(call[0] in ("promote", "rollback") for call in lab.calls())


def test_the_token_stays_in_the_environment_and_out_of_every_log(
    lab: SiteLab, deploy: Deploy
) -> None:
    broken = lab.add_vercel("web-broken", {})
    run = deploy(_production(lab, image=broken))
    for call in lab.call_records():
        assert VERCEL_TOKEN not in " ".join(call["argv"])
        assert "VERCEL_TOKEN" in call["env"]
        assert not [name for name in call["env"] if name.startswith("CDGEN_")]
    # Registered with GitHub as a secret (that line is never shown), and nowhere else.
    shown = [line for line in run.log.splitlines() if not line.startswith("::add-mask::")]
    assert f"::add-mask::{VERCEL_TOKEN}" in run.log.splitlines()
    assert VERCEL_TOKEN not in "\n".join(shown)
