"""The GitHub REST API double answers deployments and statuses as GitHub documents them:
shapes, status codes, error bodies and the rules applied on creation."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import request

REPO = "acme/api"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Response fields, from https://docs.github.com/rest/deployments/deployments#get-a-deployment
DEPLOYMENT_KEYS = {
    "url", "id", "node_id", "sha", "ref", "task", "payload", "original_environment",
    "environment", "description", "creator", "created_at", "updated_at", "statuses_url",
    "repository_url", "transient_environment", "production_environment",
    "performed_via_github_app",
}  # fmt: skip
# https://docs.github.com/rest/deployments/statuses#get-a-deployment-status
STATUS_KEYS = {
    "url", "id", "node_id", "state", "creator", "description", "environment", "target_url",
    "created_at", "updated_at", "deployment_url", "repository_url", "environment_url",
    "log_url", "performed_via_github_app",
}  # fmt: skip
# The required fields of GitHub's simple-user (the creator).
USER_KEYS = {
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url",
    "following_url", "gists_url", "starred_url", "subscriptions_url", "organizations_url",
    "repos_url", "events_url", "received_events_url", "type", "site_admin",
}  # fmt: skip


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


def test_created_deployment_has_the_documented_shape(api: GitHubApi, state: GitHubState) -> None:
    head = shas(state)[-1]
    body = {"ref": head, "task": "deploy", "auto_merge": False, "required_contexts": []}
    reply = request(f"{api.url}/repos/{REPO}/deployments", "POST", {**body, "payload": {"a": 1}})
    assert reply.status == 201
    created = reply.body
    assert set(created) == DEPLOYMENT_KEYS
    assert set(created["creator"]) >= USER_KEYS
    assert created["creator"]["login"] == "github-actions[bot]"
    assert created["creator"]["type"] == "Bot"
    assert (created["sha"], created["ref"], created["payload"]) == (head, head, {"a": 1})
    assert created["environment"] == created["original_environment"] == "production"
    assert created["production_environment"] is True  # the default for "production"
    assert created["transient_environment"] is False
    assert ISO.fullmatch(created["created_at"]) and created["updated_at"] == created["created_at"]
    assert base64.b64decode(created["node_id"]) == f"010:Deployment{created['id']}".encode()
    assert created["url"] == f"{api.url}/repos/{REPO}/deployments/{created['id']}"
    assert created["statuses_url"] == created["url"] + "/statuses"
    assert reply.headers["location"] == created["url"]
    assert reply.headers["content-type"].startswith("application/json")
    assert request(created["url"]).body == created


def test_deployment_defaults_follow_the_environment(api: GitHubApi, state: GitHubState) -> None:
    staging = create(api, ref=shas(state)[-1], environment="staging")
    assert staging["production_environment"] is False
    assert staging["task"] == "deploy" and staging["payload"] == {}
    forced = create(api, ref=shas(state)[-1], environment="prod-eu", production_environment=True)
    assert forced["production_environment"] is True


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"ref": "f" * 40}, 422, "No ref found for: " + "f" * 40),
        ({"environment": "production"}, 422, 'Invalid request.\n\n"ref" wasn\'t supplied.'),
        ({"ref": "main", "auto_merge": "no"}, 422, "Invalid request.\n\nFor 'properties/"),
        ({"ref": "main", "payload": 5}, 422, "Invalid request.\n\nFor 'properties/payload', 5"),
        ({"ref": "main", "required_contexts": ["ci/test"]}, 409, "Conflict: Commit status"),
    ],
)
def test_create_refuses_like_github(
    api: GitHubApi, body: dict[str, object], status: int, message: str
) -> None:
    reply = request(f"{api.url}/repos/{REPO}/deployments", "POST", body)
    assert reply.status == status
    assert reply.body["message"].startswith(message)
    assert reply.body["documentation_url"].startswith("https://docs.github.com/rest")
    assert reply.body["status"] == str(status)
    assert api.state.repos[REPO].deployments == {}


def test_auto_merge_refuses_a_commit_behind_the_default_branch(
    api: GitHubApi, state: GitHubState
) -> None:
    """Deploying an older commit (a rollback) needs auto_merge false, as on GitHub."""
    old = shas(state)[0]
    reply = request(f"{api.url}/repos/{REPO}/deployments", "POST", {"ref": old})
    assert reply.status == 409
    assert reply.body["message"] == f"Conflict merging main into {old}."
    assert create(api, ref=old, auto_merge=False)["sha"] == old


def test_list_is_newest_first_and_filters(api: GitHubApi, state: GitHubState) -> None:
    first, second = shas(state)[-2:]
    ids = [
        create(api, ref=first, auto_merge=False, environment="staging")["id"],
        create(api, ref=second, environment="staging")["id"],
        create(api, ref=second, environment="production", task="deploy:migrations")["id"],
    ]
    listed = request(f"{api.url}/repos/{REPO}/deployments")
    assert [d["id"] for d in listed.body] == ids[::-1]
    assert "link" not in listed.headers  # one page: GitHub sends no Link header

    def ids_for(query: str) -> list[object]:
        return [d["id"] for d in request(f"{api.url}/repos/{REPO}/deployments?{query}").body]

    assert ids_for("environment=staging") == [ids[1], ids[0]]
    assert ids_for(f"sha={second}") == [ids[2], ids[1]]
    assert ids_for(f"ref={first}") == [ids[0]]
    assert ids_for("task=deploy:migrations") == [ids[2]]
    assert ids_for("environment=qa") == []


def test_status_has_the_documented_shape(api: GitHubApi, state: GitHubState) -> None:
    deployment = create(api, ref=shas(state)[-1], environment="staging")
    body = {
        "state": "success",
        "description": "Deployed ghcr.io/acme/api@sha256:" + "a" * 64,
        "environment_url": "https://staging.example.com",
        "log_url": "https://github.com/acme/api/actions/runs/1",
    }
    reply = request(f"{deployment['url']}/statuses", "POST", body)
    assert reply.status == 201
    status = reply.body
    assert set(status) == STATUS_KEYS
    assert {k: status[k] for k in body} == body
    assert status["target_url"] == body["log_url"]  # log_url sets target_url too
    assert status["environment"] == "staging"
    assert status["deployment_url"] == deployment["url"]
    assert base64.b64decode(status["node_id"]) == f"016:DeploymentStatus{status['id']}".encode()
    assert request(str(deployment["url"])).body["updated_at"] == status["created_at"]


@pytest.mark.parametrize(
    ("body", "message", "errors"),
    [
        ({"state": "done"}, "Invalid request.\n\nFor 'properties/state', \"done\"", None),
        ({"description": "x"}, 'Invalid request.\n\n"state" wasn\'t supplied.', None),
        (
            {"state": "success", "description": "x" * 141},
            "Validation Failed",
            [
                {
                    "resource": "DeploymentStatus",
                    "code": "custom",
                    "field": "description",
                    "message": "description is too long (maximum is 140 characters)",
                }
            ],
        ),
    ],
)
def test_status_refuses_like_github(
    api: GitHubApi,
    state: GitHubState,
    body: dict[str, object],
    message: str,
    errors: list[dict[str, str]] | None,
) -> None:
    deployment = create(api, ref=shas(state)[-1])
    reply = request(f"{deployment['url']}/statuses", "POST", body)
    assert reply.status == 422
    assert reply.body["message"].startswith(message)
    assert reply.body.get("errors") == errors
    assert request(f"{deployment['url']}/statuses").body == []


def test_exactly_140_characters_is_accepted(api: GitHubApi, state: GitHubState) -> None:
    deployment = create(api, ref=shas(state)[-1])
    body = {"state": "failure", "description": "é" * 140}  # characters, not bytes
    assert request(f"{deployment['url']}/statuses", "POST", body).status == 201


def test_success_marks_earlier_successes_of_the_environment_inactive(
    api: GitHubApi, state: GitHubState
) -> None:
    head = shas(state)[-1]
    at = "2024-02-01T00:00:00Z"
    older = state.add_deployment(REPO, head, "production", [("success", at)])
    failed = state.add_deployment(REPO, head, "production", [("failure", at)])
    other = state.add_deployment(REPO, head, "staging", [("success", at)])
    kept = state.add_deployment(REPO, head, "production", [("success", at)])
    newer = create(api, ref=head)
    for state_ in ("in_progress", "success"):
        request(f"{newer['url']}/statuses", "POST", {"state": state_})

    def states(ident: int) -> list[str]:
        url = f"{api.url}/repos/{REPO}/deployments/{ident}/statuses"
        return [s["state"] for s in request(url).body]

    assert states(older) == ["inactive", "success"]  # newest first
    assert states(kept) == ["inactive", "success"]
    assert states(failed) == ["failure"]
    assert states(other) == ["success"]
    assert states(int(str(newer["id"]))) == ["success", "in_progress"]


def test_auto_inactive_false_leaves_earlier_deployments(api: GitHubApi, state: GitHubState) -> None:
    head = shas(state)[-1]
    older = state.add_deployment(REPO, head, "production", [("success", "2024-02-01T00:00:00Z")])
    newer = create(api, ref=head)
    body = {"state": "success", "auto_inactive": False}
    assert request(f"{newer['url']}/statuses", "POST", body).status == 201
    url = f"{api.url}/repos/{REPO}/deployments/{older}/statuses"
    assert [s["state"] for s in request(url).body] == ["success"]


def test_seeded_statuses_keep_their_times(api: GitHubApi, state: GitHubState) -> None:
    ident = state.add_deployment(
        REPO,
        shas(state)[-1],
        "production",
        [("in_progress", "2024-03-01T10:00:00Z"), ("success", "2024-03-01T10:04:30+00:00")],
        created_at="2024-03-01T09:59:59Z",
    )
    url = f"{api.url}/repos/{REPO}/deployments/{ident}"
    assert request(url).body["created_at"] == "2024-03-01T09:59:59Z"
    statuses = request(url + "/statuses").body
    assert [(s["state"], s["created_at"]) for s in statuses] == [
        ("success", "2024-03-01T10:04:30Z"),
        ("in_progress", "2024-03-01T10:00:00Z"),
    ]


@pytest.mark.parametrize(
    "path",
    ["/repos/acme/other/deployments", "/repos/acme/api/deployments/999", "/repos/acme/api/nope"],
)
def test_unknown_things_are_404(api: GitHubApi, path: str) -> None:
    reply = request(api.url + path)
    assert reply.status == 404
    assert reply.body == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


def test_repository_names_are_case_insensitive(api: GitHubApi) -> None:
    assert request(f"{api.url}/repos/ACME/Api/deployments").status == 200
