"""Deployment records written by the engine, against the GitHub REST API double: one record
per deploy or rollback that reaches ``set image``, naming the image's commit, closed with
the state that says whether the image stayed live (or left in progress for mode record),
and never able to change a deploy's result, exit code or speed much."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.github_api import GitHubApi
from support.github_state import Deployment, GitHubState
from support.sandbox import GOOD, deployment, image
from support.smoke_server import SmokeServer

from cdgen.deploy.records import Records
from cdgen.deploy.records_target import RecordTarget

from .conftest import NAMESPACE, REPO, RUN_ENV, RUN_URL, TOKEN, Deploy, Sandbox
from .inprocess import run_engine
from .lock_test import held_by

URL = "https://staging.example.com"


def head(state: GitHubState) -> str:
    return list(state.repos[REPO].commits)[-1]


def recorded(api: GitHubApi, state: GitHubState, **more: str) -> dict[str, str]:
    """The environment of a deploy step that records itself, as a workflow run has it."""
    return {
        **RUN_ENV,
        "GITHUB_API_URL": api.url,
        "CDGEN_GITHUB_TOKEN": TOKEN,
        "CDGEN_COMMIT": head(state),
        "CDGEN_ENVIRONMENT_URL": URL,
        **more,
    }


class Waits:
    """Pauses between retries, recorded instead of slept."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client(
    api: GitHubApi,
    state: GitHubState,
    *,
    url: str = "",
    token: str = TOKEN,
    budget: float = 15.0,
    request_timeout: float = 8.0,
) -> Records:
    """What the command line makes from a workflow run's environment (see test_records)."""
    target = RecordTarget(url or api.url, REPO, token, NAMESPACE, URL, head(state), RUN_URL)
    return Records(target, sleep=Waits(), budget=budget, request_timeout=request_timeout)


def records_of(state: GitHubState) -> list[Deployment]:
    return list(state.repos[REPO].deployments.values())


def only_record(state: GitHubState) -> Deployment:
    (made,) = records_of(state)
    return made


def states(record: Deployment) -> list[str]:
    return [status.state for status in record.statuses]


def test_a_deploy_is_recorded_from_in_progress_to_success(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    result = deploy("--image", image("v2"), env=recorded(api, state))
    assert result.code == 0, result.log
    made = only_record(state)
    assert (made.sha, made.environment, made.task) == (head(state), NAMESPACE, "deploy")
    assert made.payload == {"image": image("v2"), "tool": "cdgen"}
    assert made.description == f"cdgen deploy of {image('v2')}"
    assert [(s.state, s.environment_url, s.log_url) for s in made.statuses] == [
        ("in_progress", URL, RUN_URL),
        ("success", URL, RUN_URL),
    ]
    assert made.statuses[-1].description == f"{image('v2')} is live and verified"
    assert result.outputs["deployment-id"] == str(made.id)
    assert f"| Deployment record | deployment {made.id}: success |" in result.summary
    (row,) = [
        line for line in result.summary.splitlines() if "| Open the deployment record" in line
    ]
    assert row.endswith(f"| ✅ deployment {made.id} |")
    assert "::warning" not in result.log


def test_the_record_is_opened_just_before_set_image(
    sandbox: Sandbox, server: SmokeServer, api: GitHubApi, state: GitHubState
) -> None:
    seen: list[tuple[str, list[str]]] = []

    def look(args: list[str]) -> None:
        seen.append((args[0], [s for made in records_of(state) for s in states(made)]))

    run = run_engine(server, hook=look, records=client(api, state), image=image("v2"))
    assert run.outcome.result == "deployed", run.log
    # The lock and the reads (no record yet), set image and its rollout (in progress), the
    # lock's release (closed).
    assert seen == [
        ("get", []),
        ("annotate", []),
        ("get", []),
        ("set", ["in_progress"]),
        ("rollout", ["in_progress"]),
        ("get", ["in_progress", "success"]),
        ("annotate", ["in_progress", "success"]),
    ]


def test_a_rollback_mode_run_is_recorded_too(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    assert deploy("--image", image("v2")).code == 0
    oldest = next(iter(state.repos[REPO].commits))  # a rollback deploys an older commit
    result = deploy(
        "--mode", "rollback", "--image", GOOD, env=recorded(api, state, CDGEN_COMMIT=oldest)
    )
    assert result.code == 0, result.log
    made = only_record(state)
    assert (made.sha, made.description) == (oldest, f"cdgen rollback to {GOOD}")
    assert states(made) == ["in_progress", "success"]


def test_the_commit_defaults_to_the_runs_commit(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    env = recorded(api, state, CDGEN_COMMIT="", GITHUB_SHA=head(state))
    assert deploy("--image", image("v2"), env=env).code == 0
    assert only_record(state).sha == head(state)


@pytest.mark.parametrize(
    ("target", "setup", "result", "final", "description"),
    [
        (image("broken"), {}, "rolled-back", "failure", "did not stay live: the smoke test"),
        (image("never-ready"), {}, "rolled-back", "failure", "did not stay live: the rollout"),
        (
            image("broken"),
            {"fail_undo": True},
            "failed",
            "error",
            "not rolled back cleanly: The automatic rollback FAILED.",
        ),
        # set image refused: it changed nothing, but the change that was asked for failed.
        (image("v2"), {"set_image_fails": True}, "failed", "failure", "kubectl set image failed"),
    ],
    ids=["smoke", "rollout", "degraded", "set-image"],
)
def test_the_final_state_says_whether_the_image_stayed_live(
    deploy: Deploy,
    sandbox: Sandbox,
    api: GitHubApi,
    state: GitHubState,
    target: str,
    setup: dict[str, object],
    result: str,
    final: str,
    description: str,
) -> None:
    sandbox.update(**setup)
    run = deploy("--image", target, "--record-open", "true", env=recorded(api, state))
    assert (run.code, run.outputs["result"]) == (1, result), run.log
    made = only_record(state)
    assert states(made) == ["in_progress", final]  # closed at once, record-open or not
    assert description in made.statuses[-1].description
    assert run.outputs["deployment-id"] == str(made.id)
    assert f"| Deployment record | deployment {made.id}: {final} |" in run.summary


def _paused(sandbox: Sandbox) -> None:
    sandbox.update(deployments={f"{NAMESPACE}/api": deployment(paused=True)})


def _locked(sandbox: Sandbox) -> None:
    sandbox.set_lock(held_by())


def _replaced(sandbox: Sandbox) -> None:
    sandbox.update(deployments={f"{NAMESPACE}/api": deployment(image("v3"))})


@pytest.mark.parametrize(
    ("setup", "args"),
    [
        (_paused, []),
        (_locked, ["--lock-wait", "0s"]),
        (_replaced, ["--mode", "rollback", "--only-if-live", image("v2")]),
        (None, ["--deployment", "missing"]),
        (None, ["--smoke-retries", "many"]),
    ],
    ids=["preflight", "lock-timeout", "skipped", "missing", "invalid"],
)
def test_a_run_that_changes_nothing_leaves_no_record(
    deploy: Deploy,
    sandbox: Sandbox,
    api: GitHubApi,
    state: GitHubState,
    setup: Callable[[Sandbox], None] | None,
    args: list[str],
) -> None:
    if setup is not None:
        setup(sandbox)
    result = deploy("--image", GOOD, *args, env=recorded(api, state))
    assert result.outputs["deployment-id"] == ""
    assert api.requests == []
    assert sandbox.mutating_calls() == []


def test_record_open_leaves_it_in_progress_for_mode_record(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    result = deploy("--image", image("v2"), env=recorded(api, state, CDGEN_RECORD_OPEN="true"))
    assert result.code == 0, result.log
    made = only_record(state)
    assert states(made) == ["in_progress"]
    ident = result.outputs["deployment-id"]
    assert ident == str(made.id)
    expected = f"| Deployment record | deployment {ident}: in progress until the end-to-end"
    assert expected in result.summary
    calls = len(sandbox.calls())
    closed = deploy(
        env=recorded(
            api,
            state,
            CDGEN_MODE="record",
            CDGEN_DEPLOYMENT_ID=ident,
            CDGEN_RECORD_STATE="success",
            CDGEN_RECORD_DESCRIPTION="deployed;  end-to-end tests passed",
        )
    )
    assert closed.code == 0, closed.log
    assert closed.outputs == {
        "result": "recorded",
        "previous-image": "",
        "deployed-image": "",
        "deployment-id": ident,
    }
    assert states(made) == ["in_progress", "success"]
    assert made.statuses[-1].description == "deployed; end-to-end tests passed"
    assert made.statuses[-1].environment_url == URL
    assert len(sandbox.calls()) == calls  # no kubectl at all
    assert closed.summary == f"## 📝 cdgen record: —: recorded\n\ndeployment {ident}: success\n"
    assert f"::notice title=Deployment recorded::deployment {ident} is success" in closed.log
