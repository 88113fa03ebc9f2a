"""mode verify looks and changes nothing (no lock, no record, no rollback); mode record gives
a deployment record its final state and touches no cluster; every new input is checked
before anything runs."""

from __future__ import annotations

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import GOOD, deployment, image

from cdgen.deploy.options import InvalidInputsError, parse_options

from .conftest import NAMESPACE, REPO, TOKEN, Deploy, Sandbox, workload
from .lock_test import held_by
from .recording_test import head, recorded, states


def test_verify_passes_when_the_image_is_live_and_answers(deploy: Deploy, sandbox: Sandbox) -> None:
    assert deploy("--image", image("v2")).code == 0
    before, calls = workload(sandbox.deployment()), len(sandbox.calls())
    result = deploy("--mode", "verify", "--image", image("v2"), "--expect-version", "v2")
    assert result.code == 0, result.log
    assert result.outputs == {
        "result": "verified",
        "previous-image": image("v2"),
        "deployed-image": image("v2"),
        "deployment-id": "",
    }
    assert [argv[0] for argv in sandbox.calls()[calls:]] == ["get"]  # one look, no lock
    assert workload(sandbox.deployment()) == before
    assert f"::notice title=Verified::{image('v2')} is live in {NAMESPACE}" in result.log
    assert result.summary.startswith(f"## ✅ cdgen verify: {NAMESPACE}: verified\n")
    assert "| 1 | ✅ HTTP 200, version v2 |" in result.summary
    assert "| Lead time | — (nothing new went live) |" in result.summary


def test_verify_fails_when_another_image_is_live(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy("--mode", "verify", "--image", image("v2"))
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert (
        f"::error title=Not verified::{GOOD} is live, not {image('v2')}; nothing was changed"
    ) in result.log
    assert sandbox.verbs() == ["get"]
    assert "### Smoke test\n\nNot run." in result.summary


@pytest.mark.parametrize(
    ("live", "expect", "problem"),
    [
        (image("broken"), "", "HTTP 500"),
        (
            image("wrong-version"),
            "abc1234",
            "HTTP 200 but version abc1234 not shown (X-Version: 0000000)",
        ),
    ],
    ids=["5xx", "version"],
)
def test_verify_of_an_image_that_fails_its_smoke_test_rolls_nothing_back(
    deploy: Deploy, sandbox: Sandbox, live: str, expect: str, problem: str
) -> None:
    sandbox.update(deployments={f"{NAMESPACE}/api": deployment(live)})
    before = workload(sandbox.deployment())
    result = deploy("--mode", "verify", "--image", live, "--expect-version", expect)
    assert result.code == 1
    assert result.outputs["result"] == "failed"
    assert result.outputs["previous-image"] == result.outputs["deployed-image"] == live
    assert (
        f"::error title=Not verified::the smoke test failed 1 time(s): {problem}; nothing was "
        "changed"
    ) in result.log
    assert "rolling back" not in result.log and "Rolled back" not in result.log
    assert sandbox.verbs() == ["get"]
    assert workload(sandbox.deployment()) == before


def test_verify_neither_waits_for_the_lock_nor_records(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    sandbox.set_lock(held_by())  # a deploy is under way: looking does not wait for it
    result = deploy("--mode", "verify", "--image", GOOD, env=recorded(api, state))
    assert result.code == 0, result.log
    assert sandbox.verbs() == ["get"]
    assert sandbox.lock() == held_by()
    assert api.requests == []
    assert result.outputs["deployment-id"] == ""


def closing(ident: str, final: str = "success", **more: str) -> dict[str, str]:
    return {
        "CDGEN_MODE": "record",
        "CDGEN_DEPLOYMENT_ID": ident,
        "CDGEN_RECORD_STATE": final,
        **more,
    }


@pytest.mark.parametrize("final", ["success", "failure", "error"])
def test_record_closes_a_record_without_kubectl(
    deploy: Deploy,
    sandbox: Sandbox,
    api: GitHubApi,
    state: GitHubState,
    monkeypatch: pytest.MonkeyPatch,
    final: str,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no kubectl at all
    ident = state.add_deployment(REPO, head(state))
    env = recorded(api, state, **closing(str(ident), final, CDGEN_ENVIRONMENT="production"))
    result = deploy(env=env)
    assert result.code == 0, result.log
    assert result.outputs["result"] == "recorded"
    made = state.repos[REPO].deployments[ident]
    assert states(made) == [final]
    assert made.statuses[0].description == final  # no description given: the state
    assert sandbox.calls() == []
    assert result.summary == (
        f"## 📝 cdgen record: production: recorded\n\ndeployment {ident}: {final}\n"
    )


def test_record_of_an_unknown_deployment_warns_and_never_fails_the_job(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    """Bookkeeping never fails the job: a deploy and its tests that passed are not turned
    into a failed job (and a skipped production) by GitHub's answer to a status post."""
    result = deploy(env=recorded(api, state, **closing("999")))
    assert result.code == 0
    assert result.outputs["result"] == "failed"
    assert (
        "::warning title=Deployment record::could not set deployment record 999 to success: "
        "GitHub answered HTTP 404: Not Found"
    ) in result.log
    assert (
        "::warning title=Deployment record not written::deployment 999 could not be set to success"
    ) in result.log
    assert sandbox.calls() == []


COMMIT = "c" * 40
DEPLOY_INPUTS = {"CDGEN_IMAGE": image("v2"), "CDGEN_GITHUB_TOKEN": TOKEN, "CDGEN_COMMIT": COMMIT}
RECORD_INPUTS = {"CDGEN_GITHUB_TOKEN": TOKEN, **closing("12")}
NOT_A_DURATION = "is not a duration from 0s to 21600s (e.g. 90s, 5m, 1h30m)"
NOT_A_TOKEN = "github-token: not a token (printable characters, no spaces)"
NOT_AN_ID = "is not a deployment id (a number)"
NOT_A_STATE = "is not one of success, failure, error"
ONE_LINE = "record-description: one line of at most 140 characters"


@pytest.mark.parametrize(
    ("base", "name", "value", "message"),
    [
        (DEPLOY_INPUTS, "lock-wait", "5", f"lock-wait: '5' {NOT_A_DURATION}"),
        (DEPLOY_INPUTS, "lock-wait", "7h", f"lock-wait: '7h' {NOT_A_DURATION}"),
        (DEPLOY_INPUTS, "lock-wait", "-1m", f"lock-wait: '-1m' {NOT_A_DURATION}"),
        (DEPLOY_INPUTS, "github-token", "ghs with spaces", NOT_A_TOKEN),
        (DEPLOY_INPUTS, "github-token", "ghs_x\n", NOT_A_TOKEN),
        (DEPLOY_INPUTS, "github-token", "g" * 1025, NOT_A_TOKEN),
        (DEPLOY_INPUTS, "commit", "abc1234", "commit: 'abc1234' is not a full commit SHA"),
        (DEPLOY_INPUTS, "commit", "A" * 40, f"commit: '{'A' * 40}' is not a full commit SHA"),
        (DEPLOY_INPUTS, "commit", "", "commit: required to record the deploy"),
        (
            DEPLOY_INPUTS,
            "environment-url",
            "javascript:alert(1)",
            "environment-url: 'javascript:alert(1)' is not an http(s) URL",
        ),
        (
            DEPLOY_INPUTS,
            "environment-url",
            "https://x y",
            "environment-url: 'https://x y' is not an http(s) URL",
        ),
        (DEPLOY_INPUTS, "record-open", "yes", "record-open: 'yes' is not 'true' or 'false'"),
        (RECORD_INPUTS, "github-token", "", "github-token: required with mode record"),
        (RECORD_INPUTS, "deployment-id", "", f"deployment-id: '' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", "0", f"deployment-id: '0' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", "012", f"deployment-id: '012' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", "-1", f"deployment-id: '-1' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", "1 2", f"deployment-id: '1 2' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", "9" * 20, f"deployment-id: '{'9' * 20}' {NOT_AN_ID}"),
        (RECORD_INPUTS, "deployment-id", str(2**63), f"deployment-id: '{2**63}' {NOT_AN_ID}"),
        (RECORD_INPUTS, "record-state", "", f"record-state: '' {NOT_A_STATE}"),
        (
            RECORD_INPUTS,
            "record-state",
            "in_progress",
            f"record-state: 'in_progress' {NOT_A_STATE}",
        ),
        (RECORD_INPUTS, "record-state", "inactive", f"record-state: 'inactive' {NOT_A_STATE}"),
        (RECORD_INPUTS, "record-state", "SUCCESS", f"record-state: 'SUCCESS' {NOT_A_STATE}"),
        (RECORD_INPUTS, "record-description", "passed\n::error::x", ONE_LINE),
        (RECORD_INPUTS, "record-description", "x" * 141, ONE_LINE),
    ],
)
def test_a_malformed_new_input_changes_nothing(
    deploy: Deploy,
    sandbox: Sandbox,
    api: GitHubApi,
    state: GitHubState,
    base: dict[str, str],
    name: str,
    value: str,
    message: str,
) -> None:
    env = {**base, "GITHUB_API_URL": api.url, f"CDGEN_{name.upper().replace('-', '_')}": value}
    result = deploy(env=env)
    assert result.code == 2
    assert f"::error title=Invalid input::{message}" in result.log
    assert "::error title=Invalid input::nothing was changed: fix the inputs above" in result.log
    assert result.outputs["result"] == "failed"
    assert sandbox.calls() == [] and api.requests == []
    assert TOKEN not in result.log + result.summary


def test_the_edges_of_the_new_inputs_are_accepted() -> None:
    cluster = {"image": image("v2"), "namespace": NAMESPACE, "deployment": "api"}
    assert parse_options({**cluster, "lock-wait": "0s"}).lock_wait == 0
    assert parse_options({**cluster, "lock-wait": "6h"}).lock_wait == 6 * 3600
    recording = parse_options(
        {
            "mode": "record",
            "github-token": TOKEN,
            "deployment-id": str(2**63 - 1),
            "record-state": "error",
            # GitHub collapses runs of spaces; a tab or a line break is refused.
            "record-description": "e2e:  " + "x" * 134,
        }
    ).recording
    assert (recording.deployment_id, recording.state) == (2**63 - 1, "error")
    assert recording.description == "e2e: " + "x" * 134
    with pytest.raises(InvalidInputsError, match="record-description"):
        parse_options({"mode": "record", "github-token": TOKEN, "deployment-id": "1",
                       "record-state": "error", "record-description": "a\tb"})  # fmt: skip
