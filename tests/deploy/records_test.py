"""The engine's deployment-record client against the GitHub REST API double: what it sends,
what it retries, how long it may take, and that it never raises or shows the token."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState

from cdgen.deploy.records import Records, shorten
from cdgen.deploy.records_target import RecordTarget, run_url, target_from_environ

from .conftest import REPO, ROOT, RUN_URL, TOKEN

IMAGE = "ghcr.io/acme/api@sha256:" + "d" * 64


@pytest.fixture
def api(state: GitHubState, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubApi]:
    for name in ("http_proxy", "https_proxy", "all_proxy"):  # urllib would use them
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with GitHubApi(state, read_only_tokens=["ghs_read_only"]) as server:
        server.tokens["ghs_read_only"] = "reader"
        yield server


def target(api: GitHubApi, state: GitHubState, **changes: Any) -> RecordTarget:
    head = list(state.repos[REPO].commits)[-1]
    made = RecordTarget(
        api_url=api.url,
        repository=REPO,
        token=TOKEN,
        environment="production",
        environment_url="https://example.com",
        commit=head,
        log_url=RUN_URL,
    )
    return replace(made, **changes)


class Waits:
    """Records the sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def records(api: GitHubApi, state: GitHubState, waits: Waits | None = None, **kw: Any) -> Records:
    settings = {key: kw.pop(key) for key in list(kw) if key in ("budget", "request_timeout")}
    return Records(target(api, state, **kw), sleep=waits or Waits(), **settings)


def bodies(api: GitHubApi, endpoint: str) -> list[Any]:
    return [r.body for r in api.calls(endpoint)]


CREATE = "POST /repos/{owner}/{repo}/deployments"
STATUS = "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"


def test_open_then_close_records_the_deploy(api: GitHubApi, state: GitHubState) -> None:
    client = records(api, state)
    ident = client.open(IMAGE, "Deploy by cdgen")
    assert ident is not None
    assert client.close(ident, "success", "Deployed and smoke-tested")
    head = target(api, state).commit
    assert bodies(api, CREATE) == [
        {
            "ref": head,
            "task": "deploy",
            "auto_merge": False,
            "required_contexts": [],
            "payload": {"image": IMAGE, "tool": "cdgen"},
            "environment": "production",
            "description": "Deploy by cdgen",
            "transient_environment": False,
        }
    ]
    extra = {"log_url": RUN_URL, "environment_url": "https://example.com"}
    assert bodies(api, STATUS) == [
        {"state": "in_progress", "description": "Deploy by cdgen", **extra},
        {"state": "success", "description": "Deployed and smoke-tested", **extra},
    ]
    deployment = state.repos[REPO].deployments[ident]
    assert (deployment.sha, deployment.creator) == (head, "github-actions[bot]")
    assert [s.state for s in deployment.statuses] == ["in_progress", "success"]
    headers = api.requests[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["user-agent"].startswith("cdgen-deploy/")
    assert client.warnings == []


@pytest.mark.parametrize("production", [True, False])
def test_production_is_sent_only_when_known(
    api: GitHubApi, state: GitHubState, production: bool
) -> None:
    client = records(api, state, environment="eu", production=production)
    ident = client.open(IMAGE, "x")
    assert ident is not None
    assert bodies(api, CREATE)[0]["production_environment"] is production
    assert state.repos[REPO].deployments[ident].production is production


def test_an_older_commit_is_recorded_too(api: GitHubApi, state: GitHubState) -> None:
    """A rollback deploys a commit behind main: GitHub's default auto_merge would refuse."""
    oldest = next(iter(state.repos[REPO].commits))
    assert records(api, state, commit=oldest).open(IMAGE, "Roll back") is not None


def test_descriptions_are_one_line_of_at_most_140_characters(
    api: GitHubApi, state: GitHubState
) -> None:
    long = "Smoke test failed:\n" + "é" * 200
    client = records(api, state)
    ident = client.open(IMAGE, long)
    assert ident is not None and client.close(ident, "failure", long)
    for body in bodies(api, CREATE) + bodies(api, STATUS):
        assert len(body["description"]) == 140
        assert body["description"].startswith("Smoke test failed: é")
        assert body["description"].endswith("…")
    assert shorten("a\tb\r\nc  d") == "a b c d"
    assert client.warnings == []


@pytest.mark.parametrize("final", ["failure", "error", "inactive"])
def test_close_takes_every_final_state(api: GitHubApi, state: GitHubState, final: str) -> None:
    client = records(api, state)
    ident = client.open(IMAGE, "x")
    assert ident is not None and client.close(ident, final, "y")
    assert state.repos[REPO].deployments[ident].latest_state == final


def test_close_refuses_a_state_that_is_not_final(api: GitHubApi, state: GitHubState) -> None:
    client = records(api, state)
    assert not client.close(1, "in_progress", "x")
    assert client.warnings == ["deployment record 1: 'in_progress' is not a final state"]
    assert api.requests == []


def test_server_errors_are_retried_with_backoff(api: GitHubApi, state: GitHubState) -> None:
    waits = Waits()
    api.fail(times=2, status=502)
    client = records(api, state, waits)
    assert client.open(IMAGE, "x") is not None
    assert waits.seconds == [1.0, 2.0]
    assert len(api.calls(CREATE)) == 3
    assert client.warnings == []


def test_a_server_that_keeps_failing_costs_three_requests(
    api: GitHubApi, state: GitHubState
) -> None:
    api.fail(times=None, status=503, message="Service Unavailable")
    client = records(api, state)
    assert client.open(IMAGE, "x") is None
    assert len(api.calls(CREATE)) == 3
    assert client.warnings == [
        "could not create the deployment record: GitHub answered HTTP 503: Service Unavailable"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"token": "ghs_read_only"},
            "GitHub answered HTTP 403: Resource not accessible by integration"
            " (the job needs `permissions: deployments: write`)",
        ),
        (
            {"token": "ghs_expired"},
            "GitHub answered HTTP 401: Bad credentials (the token is missing, wrong or expired)",
        ),
        (
            {"repository": "acme/gone"},
            "GitHub answered HTTP 404: Not Found"
            " (the repository is unknown or the token cannot see it)",
        ),
        ({"commit": "e" * 40}, "GitHub answered HTTP 422: No ref found for: " + "e" * 40),
    ],
)
def test_client_errors_are_not_retried(
    api: GitHubApi, state: GitHubState, changes: dict[str, Any], message: str
) -> None:
    waits = Waits()
    client = records(api, state, waits, **changes)
    assert client.open(IMAGE, "x") is None
    assert client.warnings == [f"could not create the deployment record: {message}"]
    assert len(api.requests) == 1 and waits.seconds == []


def test_a_secondary_rate_limit_waits_as_asked(api: GitHubApi, state: GitHubState) -> None:
    waits = Waits()
    api.rate_limit("secondary", times=1, wait=3)
    assert records(api, state, waits).open(IMAGE, "x") is not None
    assert waits.seconds == [3.0]


def test_a_primary_rate_limit_waits_for_the_reset(api: GitHubApi, state: GitHubState) -> None:
    waits = Waits()
    api.rate_limit("primary", times=1, wait=6)
    assert records(api, state, waits).open(IMAGE, "x") is not None
    assert len(waits.seconds) == 1 and 4 <= waits.seconds[0] <= 6


def test_a_long_rate_limit_is_not_waited_for(api: GitHubApi, state: GitHubState) -> None:
    waits = Waits()
    api.rate_limit("secondary", times=1, wait=120)
    client = records(api, state, waits)
    assert client.open(IMAGE, "x") is None
    assert waits.seconds == []
    assert client.warnings[0].endswith("before you try again.; not waiting 120s to retry")


def test_a_slow_server_cannot_hold_the_deploy(api: GitHubApi, state: GitHubState) -> None:
    api.delay = 3.0
    client = records(api, state, budget=1.0, request_timeout=0.5)
    started = time.monotonic()
    assert client.open(IMAGE, "x") is None
    assert time.monotonic() - started < 1.0
    # The create may have happened after all: asking again could record the deploy twice.
    assert len(api.calls(CREATE)) == 1
    assert client.warnings == ["could not create the deployment record: no answer within 0.5s"]


def test_a_stalled_answer_is_abandoned_and_a_status_retried(
    api: GitHubApi, state: GitHubState
) -> None:
    ident = state.add_deployment(REPO, target(api, state).commit)
    api.stall(seconds=3.0, times=1)  # headers now, the body much later
    client = records(api, state, budget=2.0, request_timeout=0.5)
    started = time.monotonic()
    assert client.close(ident, "success", "ok")
    assert time.monotonic() - started < 2.0
    assert len(api.calls(STATUS)) == 2  # a status twice is harmless; a missing one is not
    assert state.repos[REPO].deployments[ident].latest_state == "success"


def test_refused_connections_are_retried_then_reported(
    state: GitHubState, api: GitHubApi, closed_port: int
) -> None:
    waits = Waits()
    client = records(api, state, waits, api_url=f"http://127.0.0.1:{closed_port}")
    assert client.open(IMAGE, "x") is None
    assert waits.seconds == [1.0, 2.0]
    assert client.warnings == ["could not create the deployment record: connection refused"]


def test_the_token_never_appears_in_a_warning(api: GitHubApi, state: GitHubState) -> None:
    api.fail(times=None, status=500, message=f"token {TOKEN} is not welcome here")
    client = records(api, state)
    assert client.open(IMAGE, "x") is None
    assert TOKEN not in client.warnings[0]
    assert "token *** is not welcome here" in client.warnings[0]


def test_redirects_are_not_followed(api: GitHubApi, state: GitHubState) -> None:
    with GitHubApi(GitHubState()) as elsewhere:
        api.respond(301, {"message": "Moved Permanently"}, {"Location": elsewhere.url + "/x"})
        client = records(api, state)
        assert client.open(IMAGE, "x") is None
        assert elsewhere.requests == []  # the token did not travel along
    assert "HTTP 301: Moved Permanently (redirects are not followed" in client.warnings[0]


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"id": "12"}', b"[]"])
def test_an_answer_without_an_id_is_a_warning(
    api: GitHubApi, state: GitHubState, body: bytes
) -> None:
    api.respond(201, body)
    client = records(api, state)
    assert client.open(IMAGE, "x") is None
    assert client.warnings == ["could not create the deployment record: GitHub's answer has no id"]


def test_nothing_raises_into_the_engine(api: GitHubApi, state: GitHubState) -> None:
    def broken(request: object, timeout: float) -> Any:
        raise RuntimeError("surprise")

    seen: list[str] = []
    client = Records(target(api, state), seen.append, send=broken, sleep=Waits())
    assert client.open(IMAGE, "x") is None
    assert seen == client.warnings
    assert seen[0] == "could not create the deployment record: RuntimeError: surprise"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"api_url": "http://github.example.com"}, "the API URL must use https"),
        ({"api_url": "ftp://x"}, "the API URL must be an http(s) URL"),
        ({"api_url": "https://u:p@api.github.com"}, "must not carry credentials"),
        ({"repository": "acme"}, "the repository is not OWNER/NAME"),
        ({"token": ""}, "no token"),
        ({"token": "ghs_x\r\nX-Evil: 1"}, "the token is not printable ASCII"),
        ({"token": "ghs_naïve"}, "the token is not printable ASCII"),
        ({"environment_url": "javascript:alert(1)"}, "the environment URL must be an http(s) URL"),
        ({"log_url": "https://x y"}, "the run URL holds spaces"),
    ],
)
def test_an_unusable_target_makes_no_request(
    api: GitHubApi, state: GitHubState, changes: dict[str, Any], problem: str
) -> None:
    client = records(api, state, **changes)
    assert client.open(IMAGE, "x") is None
    assert not client.close(7, "success", "x")
    assert problem in client.warnings[0] and problem in client.warnings[1]
    assert api.requests == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"commit": "abc1234"}, "the commit is not a 40-hex SHA"),
        ({"environment": " "}, "no environment name"),
        ({"environment": "prod\nuction"}, "the environment name holds control characters"),
    ],
)
def test_closing_a_record_needs_no_commit_or_environment(
    api: GitHubApi, state: GitHubState, changes: dict[str, Any], problem: str
) -> None:
    """Only creating a record names them: mode record closes one from its id alone."""
    ident = state.add_deployment(REPO, target(api, state).commit)
    client = records(api, state, **changes)
    assert client.open(IMAGE, "x") is None
    assert client.warnings == [f"no deployment record: {problem}"]
    assert api.requests == []
    assert client.close(ident, "success", "x")
    assert state.repos[REPO].deployments[ident].latest_state == "success"


def test_target_from_the_actions_environment() -> None:
    environ = {
        "GITHUB_API_URL": "https://ghe.example.com/api/v3",
        "GITHUB_SERVER_URL": "https://ghe.example.com",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
    }
    made = target_from_environ(
        environ, token="t", environment="staging", environment_url="", commit="a" * 40
    )
    assert (made.api_url, made.repository) == ("https://ghe.example.com/api/v3", REPO)
    assert made.log_url == "https://ghe.example.com/acme/api/actions/runs/42/attempts/2"
    assert made.production is None and made.problem() == ""
    assert run_url({}) == ""
    assert run_url({**environ, "GITHUB_RUN_ATTEMPT": ""}).endswith("/runs/42")


def test_works_with_the_runners_bare_python(api: GitHubApi, state: GitHubState) -> None:
    """No site-packages: the action's engine runs this with the runner's python3 -S."""
    script = (
        "import json, sys\n"
        "from cdgen.deploy.records import Records\n"
        "from cdgen.deploy.records_target import RecordTarget\n"
        "client = Records(RecordTarget(**json.loads(sys.argv[1])))\n"
        "ident = client.open('img', 'd')\n"
        "print(json.dumps([ident, client.close(ident, 'success', 'ok'), client.warnings]))\n"
    )
    fields = target(api, state).__dict__
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "generator")}
    done = subprocess.run(
        ["/usr/bin/python3", "-S", "-B", "-c", script, json.dumps(fields)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ident, closed, warnings = json.loads(done.stdout)
    assert closed is True and warnings == []
    assert state.repos[REPO].deployments[ident].latest_state == "success"
