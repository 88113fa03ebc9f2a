"""The GitHub REST API double's authentication, switches (rate limits, failures, delay,
quota), request log and program form."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import request

REPO = "acme/api"


@pytest.fixture
def state() -> GitHubState:
    seeded = GitHubState()
    seeded.add_history(REPO, 4)
    return seeded


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state, read_only_tokens=["ghs_read_only"]) as server:
        server.tokens["ghs_read_only"] = "reader"
        yield server


def shas(state: GitHubState) -> list[str]:
    return list(state.repos[REPO].commits)


def create(api: GitHubApi, **body: object) -> dict[str, object]:
    reply = request(f"{api.url}/repos/{REPO}/deployments", "POST", body)
    assert reply.status == 201, reply.body
    created: dict[str, object] = reply.body
    return created


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Requires authentication"),
        ({"Authorization": "Bearer wrong"}, "Bad credentials"),
        ({"Authorization": "Basic ghs_test_token"}, "Bad credentials"),
    ],
)
def test_bad_credentials_are_401(api: GitHubApi, headers: dict[str, str], message: str) -> None:
    reply = request(f"{api.url}/repos/{REPO}/deployments", token=None, headers=headers)
    assert (reply.status, reply.body["message"]) == (401, message)


def test_token_scheme_is_accepted_too(api: GitHubApi) -> None:
    headers = {"Authorization": "token ghs_test_token"}
    assert request(f"{api.url}/repos/{REPO}/deployments", token=None, headers=headers).status == 200


def test_a_read_only_token_cannot_write(api: GitHubApi, state: GitHubState) -> None:
    url = f"{api.url}/repos/{REPO}/deployments"
    assert request(url, token="ghs_read_only").status == 200
    reply = request(url, "POST", {"ref": shas(state)[-1]}, token="ghs_read_only")
    assert (reply.status, reply.body["message"]) == (403, "Resource not accessible by integration")


def test_malformed_json_and_unknown_api_versions_are_400(api: GitHubApi) -> None:
    url = f"{api.url}/repos/{REPO}/deployments"
    reply = request(url, "POST", raw=b"{not json")
    assert (reply.status, reply.body["message"]) == (400, "Problems parsing JSON")
    reply = request(url, headers={"X-GitHub-Api-Version": "2020-01-01"})
    assert reply.status == 400
    assert request(url, headers={"X-GitHub-Api-Version": "2022-11-28"}).status == 200


def test_rate_limit_switches(api: GitHubApi) -> None:
    url = f"{api.url}/repos/{REPO}/deployments"
    api.rate_limit("primary", times=1, wait=120)
    reply = request(url)
    assert reply.status == 403
    assert reply.body["message"].startswith("API rate limit exceeded")
    assert reply.headers["x-ratelimit-remaining"] == "0"
    assert 100 < int(reply.headers["x-ratelimit-reset"]) - time.time() <= 120
    api.rate_limit("secondary", times=2, wait=7)
    for _ in range(2):
        reply = request(url)
        assert (reply.status, reply.headers["retry-after"]) == (429, "7")
        assert "secondary rate limit" in reply.body["message"]
    reply = request(url)
    assert reply.status == 200
    assert int(reply.headers["x-ratelimit-remaining"]) == 5000 - 4
    assert reply.headers["x-ratelimit-resource"] == "core"


def test_fail_answers_5xx_then_recovers(api: GitHubApi) -> None:
    url = f"{api.url}/repos/{REPO}/deployments"
    api.fail(times=2, status=503)
    assert [request(url).status for _ in range(3)] == [503, 503, 200]


def test_delay_makes_every_answer_slow(api: GitHubApi) -> None:
    api.delay = 0.3
    started = time.monotonic()
    assert request(f"{api.url}/repos/{REPO}/deployments").status == 200
    assert time.monotonic() - started >= 0.3


def test_requests_are_recorded_and_counted(api: GitHubApi, state: GitHubState) -> None:
    head = shas(state)[-1]
    created = create(api, ref=head, environment="qa")
    request(f"{api.url}/repos/{REPO}/deployments?environment=qa&per_page=5")
    request(f"{created['url']}/statuses", "POST", {"state": "queued"})
    recorded = [(r.method, r.path, r.query, r.body) for r in api.requests]
    assert recorded == [
        ("POST", f"/repos/{REPO}/deployments", {}, {"ref": head, "environment": "qa"}),
        ("GET", f"/repos/{REPO}/deployments", {"environment": ["qa"], "per_page": ["5"]}, None),
        ("POST", f"/repos/{REPO}/deployments/{created['id']}/statuses", {}, {"state": "queued"}),
    ]
    assert api.requests[0].headers["authorization"] == "Bearer ghs_test_token"
    assert dict(api.counts) == {
        "POST /repos/{owner}/{repo}/deployments": 1,
        "GET /repos/{owner}/{repo}/deployments": 1,
        "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses": 1,
    }


def test_runs_as_a_program_from_a_seed_file(tmp_path: Path) -> None:
    seed = {
        "repos": {
            REPO: {
                "commits": [{"sha": "a" * 40, "date": "2024-01-01T00:00:00Z", "branch": "main"}],
                "deployments": [
                    {"sha": "a" * 40, "statuses": [["success", "2024-01-01T01:00:00Z"]]}
                ],
            }
        }
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    port_file, record = tmp_path / "port", tmp_path / "requests.jsonl"
    program = Path(__file__).parent / "support" / "github_api.py"
    command = [sys.executable, str(program), "--seed", str(tmp_path / "seed.json")]
    command += ["--port-file", str(port_file), "--token", "t0k", "--record", str(record)]
    with subprocess.Popen(command) as process:
        try:
            for _ in range(100):
                if port_file.exists() and port_file.read_text(encoding="utf-8"):
                    break
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port_file.read_text(encoding='utf-8')}/repos/{REPO}"
            reply = request(f"{url}/deployments", token="t0k")
            assert [d["sha"] for d in reply.body] == ["a" * 40]
            assert request(f"{url}/deployments").status == 401  # only the given token
        finally:
            process.terminate()
    lines = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [line["endpoint"] for line in lines] == ["GET /repos/{owner}/{repo}/deployments"] * 2


def test_a_misspelt_seed_is_refused() -> None:
    from support.github_seed import load_seed

    with pytest.raises(ValueError, match=r"acme/api deployments\[0\]: unknown keys \['state'\]"):
        load_seed(GitHubState(), {"repos": {REPO: {"deployments": [{"sha": "a", "state": "x"}]}}})


def test_the_quota_runs_out_as_on_github(state: GitHubState) -> None:
    """GITHUB_TOKEN gets 1,000 requests an hour per repository: a client must stay under."""
    with GitHubApi(state, quota=3) as api:
        url = f"{api.url}/repos/{REPO}/deployments"
        replies = [request(url) for _ in range(4)]
    assert [r.status for r in replies] == [200, 200, 200, 403]
    assert [r.headers["x-ratelimit-remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert replies[3].body["message"].startswith("API rate limit exceeded")


def test_a_bad_content_length_is_refused(api: GitHubApi) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", api.server_address[1], timeout=5)
    connection.putrequest("POST", f"/repos/{REPO}/deployments")
    connection.putheader("Authorization", "Bearer ghs_test_token")
    connection.putheader("Content-Length", "lots")
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["message"]) == (
        400,
        "Problems parsing JSON",
    )
    connection.close()


def test_keep_alive_answers_are_not_held_back(api: GitHubApi) -> None:
    """Clients reuse connections (the metrics command reads thousands of pages): each answer
    must leave at once, not ~40 ms later when Nagle's algorithm meets delayed ACKs."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", api.server_address[1], timeout=5)
    started = time.monotonic()
    for _ in range(50):
        connection.request(
            "GET", f"/repos/{REPO}/deployments", headers={"Authorization": "Bearer ghs_test_token"}
        )
        response = connection.getresponse()
        assert response.status == 200
        response.read()
    connection.close()
    assert time.monotonic() - started < 1.5  # ~2 s when every answer waits for an ACK
