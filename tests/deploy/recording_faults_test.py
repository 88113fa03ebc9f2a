"""A deployment record is bookkeeping: GitHub down, slow, refusing or lying changes neither
a deploy's result nor its exit code and costs a bounded time; the token is never shown; a
cancelled run closes its record within the few seconds a runner allows."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import image
from support.smoke_server import SmokeServer

from cdgen.deploy.cancel import SignalGuard
from cdgen.deploy.records import Records
from cdgen.deploy.records_http import Reply, TransportFailure, send_request
from cdgen.deploy.records_target import RecordTarget

from .conftest import NAMESPACE, REPO, ROOT, RUN_URL, TOKEN, Deploy, Sandbox, parse_outputs
from .inprocess import run_engine
from .recording_test import URL, Waits, client, head, only_record, recorded, states

Fault = Callable[[GitHubApi], None]


def _slow(api: GitHubApi) -> None:
    api.delay = 3.0


def _failing(api: GitHubApi) -> None:
    api.fail(times=None, status=500, message="Internal Server Error")


def _refusing(api: GitHubApi) -> None:
    api.respond(422, {"message": "Validation Failed"}, times=None)


def _lying(api: GitHubApi) -> None:
    api.respond(201, b"<html>created</html>", times=None)


@pytest.mark.parametrize(
    ("fault", "settings", "warning"),
    [
        (None, {"url": "closed"}, "could not create the deployment record: connection refused"),
        (_slow, {"budget": 1.0, "request_timeout": 0.5}, "no answer within 0.5s"),
        (_failing, {}, "GitHub answered HTTP 500: Internal Server Error"),
        (None, {"token": "ghs_expired"}, "GitHub answered HTTP 401: Bad credentials"),
        (_refusing, {}, "GitHub answered HTTP 422: Validation Failed"),
        (_lying, {}, "GitHub's answer has no id"),
    ],
    ids=["down", "slow", "500", "401", "422", "not-json"],
)
@pytest.mark.parametrize(
    ("target", "result", "code"),
    [(image("v2"), "deployed", 0), (image("broken"), "rolled-back", 1)],
    ids=["healthy", "broken"],
)
def test_github_failing_changes_no_result(
    sandbox: Sandbox,
    server: SmokeServer,
    api: GitHubApi,
    state: GitHubState,
    closed_port: int,
    fault: Fault | None,
    settings: dict[str, object],
    warning: str,
    target: str,
    result: str,
    code: int,
) -> None:
    if fault is not None:
        fault(api)
    if settings.get("url") == "closed":
        settings = {"url": f"http://127.0.0.1:{closed_port}"}
    records = client(api, state, **settings)  # type: ignore[arg-type]
    started = time.monotonic()
    run = run_engine(server, records=records, image=target)
    assert time.monotonic() - started < 8  # the slow case: one 0.5s request
    assert (run.outcome.result, run.code) == (result, code), run.log
    assert run.outcome.deployment_id is None and run.outcome.record == ""
    assert warning in records.warnings[0]
    assert len(records.warnings) == 1  # nothing opened, nothing to close
    assert sandbox.lock() is None


def test_a_record_that_cannot_be_closed_keeps_the_result(
    sandbox: Sandbox, server: SmokeServer, api: GitHubApi, state: GitHubState
) -> None:
    def github_breaks(args: list[str]) -> None:
        if args[:2] == ["rollout", "status"]:  # opened; the close will fail
            _failing(api)

    records = client(api, state)
    run = run_engine(server, hook=github_breaks, records=records, image=image("v2"))
    assert (run.outcome.result, run.code) == ("deployed", 0)
    assert run.outcome.record == "deployment 1: success (not written)"
    assert records.warnings == [
        "could not set deployment record 1 to success: GitHub answered HTTP 500: "
        "Internal Server Error"
    ]
    assert states(only_record(state)) == ["in_progress"]


def test_a_refused_token_is_a_warning_on_the_command_line(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState
) -> None:
    result = deploy("--image", image("v2"), env=recorded(api, state, CDGEN_GITHUB_TOKEN="ghs_no"))
    assert result.code == 0, result.log
    assert (
        "::warning title=Deployment record::could not create the deployment record: GitHub "
        "answered HTTP 401: Bad credentials (the token is missing, wrong or expired)"
    ) in result.log
    assert result.outputs["deployment-id"] == ""
    (row,) = [
        line for line in result.summary.splitlines() if "| Open the deployment record" in line
    ]
    assert row.endswith("| ✅ not recorded (see the warning) |")


@pytest.mark.parametrize("github", [True, False], ids=["actions", "plain"])
def test_the_token_is_never_shown(
    deploy: Deploy, sandbox: Sandbox, api: GitHubApi, state: GitHubState, github: bool
) -> None:
    assert deploy("--image", image("v2"), env=recorded(api, state), github=github).code == 0
    api.respond(422, {"message": f"token {TOKEN} may not deploy"}, times=None)  # echoed back
    echoed = deploy("--image", image("v3"), env=recorded(api, state), github=github)
    for result in (deploy("--image", image("broken"), env=recorded(api, state)), echoed):
        shown = result.log + result.summary + "".join(result.outputs.values())
        assert TOKEN not in shown
    assert "token *** may not deploy" in echoed.log
    assert TOKEN not in sandbox.state_path.read_text(encoding="utf-8")  # kubectl's argv
    with pytest.raises(SystemExit):  # no flag: a command line is visible to every process
        deploy("--github-token", TOKEN, "--image", image("v2"))


@pytest.mark.parametrize("delay", [0.0, 10.0], ids=["answering", "slow"])
def test_a_cancelled_deploy_closes_its_record_within_seconds(
    sandbox: Sandbox, api: GitHubApi, state: GitHubState, tmp_path: Path, delay: float
) -> None:
    outputs = tmp_path / "outputs"
    outputs.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "generator"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        **recorded(api, state),
        "CDGEN_IMAGE": image("never-ready"),
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_ROLLOUT_TIMEOUT": "60s",
    }
    process = subprocess.Popen(
        ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("$ kubectl rollout status"):
            break
    api.delay = delay
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    log, _ = process.communicate(timeout=30)
    assert (
        time.monotonic() - sent < 7
    )  # a runner kills a cancelled job about 10s after its first signal
    assert process.returncode == 128 + signal.SIGTERM, log
    made = only_record(state)
    assert parse_outputs(outputs.read_text(encoding="utf-8"))["deployment-id"] == str(made.id)
    if delay:
        assert states(made) == ["in_progress"]
        assert f"could not set deployment record {made.id} to failure: no answer within" in log
    else:
        assert states(made) == ["in_progress", "failure"]
        description = f"cancelled after {image('never-ready')} was set; rollback issued"
        assert made.statuses[-1].description == description
    assert sandbox.lock() is None


def test_a_cancellation_while_the_record_opens_still_closes_it(
    sandbox: Sandbox, server: SmokeServer, api: GitHubApi, state: GitHubState
) -> None:
    """GitHub made the record; the cancellation came while its first status was on the way:
    the record is closed anyway, saying that nothing was changed."""
    cancelled: list[bool] = []

    def send(request: urllib.request.Request, timeout: float) -> Reply | TransportFailure:
        if request.full_url.endswith("/statuses") and not cancelled:
            cancelled.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)  # the engine is cancelled while this request is under way
            return TransportFailure("connection", "never sent")
        return send_request(request, timeout)

    target = RecordTarget(api.url, REPO, TOKEN, NAMESPACE, URL, head(state), RUN_URL)
    guard = SignalGuard().install()
    try:
        run = run_engine(
            server, records=Records(target, send=send, sleep=Waits()), image=image("v2")
        )
    finally:
        guard.restore()
    assert (run.outcome.signal, run.code) == (signal.SIGTERM, 143), run.log
    made = only_record(state)
    assert run.outcome.deployment_id == made.id
    assert states(made) == ["failure"]
    expected = f"cancelled before {image('v2')} was set; nothing was changed"
    assert made.statuses[-1].description == expected
    assert sandbox.mutating_calls() == [] and sandbox.lock() is None
