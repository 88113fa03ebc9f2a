"""The GitHub REST API double pages as GitHub does, and answers commits and compare over a
seeded commit graph (https://docs.github.com/rest/commits/commits)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import request

REPO = "acme/api"
LINK = re.compile(r'<([^>]+)>; rel="(prev|next|last|first)"')
# https://docs.github.com/rest/commits/commits#get-a-commit (files/stats: single commit only)
COMMIT_KEYS = {
    "url", "sha", "node_id", "html_url", "comments_url", "commit", "author", "committer",
    "parents",
}  # fmt: skip
COMPARISON_KEYS = {
    "url", "html_url", "permalink_url", "diff_url", "patch_url", "base_commit",
    "merge_base_commit", "status", "ahead_by", "behind_by", "total_commits", "commits", "files",
}  # fmt: skip


@pytest.fixture
def state() -> GitHubState:
    return GitHubState()


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


def links(header: str) -> dict[str, str]:
    parts = header.split(", ")
    found = [LINK.fullmatch(part) for part in parts]
    assert all(found), header  # every part is exactly <url>; rel="name"
    return {match.group(2): match.group(1) for match in found if match}


def test_link_header_pages_like_github(api: GitHubApi, state: GitHubState) -> None:
    (head,) = state.add_history(REPO, 1)
    ids = [state.add_deployment(REPO, head, "production") for _ in range(5)]
    base = f"{api.url}/repos/{REPO}/deployments?environment=production&per_page=2"

    first = request(base)
    assert [d["id"] for d in first.body] == ids[::-1][:2]
    repo_id = state.repos[REPO].id
    root = f"{api.url}/repositories/{repo_id}/deployments?environment=production&per_page=2"
    assert first.headers["link"] == f'<{root}&page=2>; rel="next", <{root}&page=3>; rel="last"'

    middle = request(f"{base}&page=2")
    assert list(links(middle.headers["link"])) == ["prev", "next", "last", "first"]
    last = request(f"{base}&page=3")
    assert links(last.headers["link"]) == {"prev": f"{root}&page=2", "first": f"{root}&page=1"}
    assert [d["id"] for d in last.body] == [ids[0]]


def test_following_next_links_visits_every_item_once(api: GitHubApi, state: GitHubState) -> None:
    (head,) = state.add_history(REPO, 1)
    ids = [state.add_deployment(REPO, head, "staging") for _ in range(7)]
    url: str | None = f"{api.url}/repos/{REPO}/deployments?per_page=3"
    seen = []
    while url:
        reply = request(url)
        seen += [d["id"] for d in reply.body]
        url = links(reply.headers["link"]).get("next") if "link" in reply.headers else None
    assert seen == ids[::-1]
    assert api.counts["GET /repos/{owner}/{repo}/deployments"] == 3


@pytest.mark.parametrize(
    ("query", "size"), [("", 30), ("?per_page=500", 100), ("?per_page=0", 30), ("?per_page=x", 30)]
)
def test_per_page_defaults_to_30_and_stops_at_100(
    api: GitHubApi, state: GitHubState, query: str, size: int
) -> None:
    (head,) = state.add_history(REPO, 1)
    for _ in range(120):
        state.add_deployment(REPO, head)
    assert len(request(f"{api.url}/repos/{REPO}/deployments{query}").body) == size


def test_a_page_past_the_end_is_empty(api: GitHubApi, state: GitHubState) -> None:
    (head,) = state.add_history(REPO, 1)
    state.add_deployment(REPO, head)
    reply = request(f"{api.url}/repos/{REPO}/deployments?page=4")
    assert reply.body == []
    assert set(links(reply.headers["link"])) == {"prev", "first"}


def test_statuses_are_newest_first_and_paged(api: GitHubApi, state: GitHubState) -> None:
    (head,) = state.add_history(REPO, 1)
    moments = [f"2024-05-01T10:0{n}:00Z" for n in range(5)]
    ident = state.add_deployment(REPO, head, statuses=[("pending", at) for at in moments])
    reply = request(f"{api.url}/repos/{REPO}/deployments/{ident}/statuses?per_page=2&page=2")
    assert [s["created_at"] for s in reply.body] == moments[::-1][2:4]
    assert set(links(reply.headers["link"])) == {"prev", "next", "last", "first"}


def graph(state: GitHubState) -> dict[str, str]:
    """root - a - b (main) and a - c (topic): main and topic diverge after a."""
    root = state.add_commit(REPO, "2024-01-01T00:00:00Z", message="root")
    a = state.add_commit(REPO, "2024-01-02T00:00:00Z", [root], message="a")
    b = state.add_commit(REPO, "2024-01-03T00:00:00Z", [a], message="b", branch="main")
    c = state.add_commit(REPO, "2024-01-04T00:00:00Z", [a], message="c", branch="topic")
    lone = state.add_commit(REPO, "2024-01-05T00:00:00Z", message="unrelated root")
    return {"root": root, "a": a, "b": b, "c": c, "lone": lone}


@pytest.mark.parametrize(
    ("base", "head", "status", "ahead", "behind", "listed", "merge_base"),
    [
        ("root", "b", "ahead", 2, 0, ["a", "b"], "root"),
        ("b", "root", "behind", 0, 2, [], "root"),
        ("b", "b", "identical", 0, 0, [], "b"),
        ("b", "c", "diverged", 1, 1, ["c"], "a"),
    ],
)
def test_compare_over_the_commit_graph(
    api: GitHubApi,
    state: GitHubState,
    base: str,
    head: str,
    status: str,
    ahead: int,
    behind: int,
    listed: list[str],
    merge_base: str,
) -> None:
    sha = graph(state)
    reply = request(f"{api.url}/repos/{REPO}/compare/{sha[base]}...{sha[head]}")
    assert reply.status == 200
    body = reply.body
    assert set(body) == COMPARISON_KEYS
    assert (body["status"], body["ahead_by"], body["behind_by"]) == (status, ahead, behind)
    assert body["total_commits"] == ahead
    assert [c["sha"] for c in body["commits"]] == [sha[name] for name in listed]
    assert body["merge_base_commit"]["sha"] == sha[merge_base]
    assert body["base_commit"]["sha"] == sha[base]
    for commit in body["commits"]:
        assert set(commit) == COMMIT_KEYS


def test_compare_accepts_branches_and_short_shas(api: GitHubApi, state: GitHubState) -> None:
    sha = graph(state)
    reply = request(f"{api.url}/repos/{REPO}/compare/main...{sha['c'][:7]}")
    assert reply.body["status"] == "diverged"
    state.repos[REPO].branches["release/2024"] = sha["b"]
    reply = request(f"{api.url}/repos/{REPO}/compare/release/2024...{sha['a']}")
    assert (reply.status, reply.body["status"]) == (200, "behind")


@pytest.mark.parametrize(
    ("basehead", "message"),
    [
        ("{b}...{lone}", "No common ancestor between {b} and {lone}."),
        ("{b}...{missing}", "Not Found"),
        ("{b}..{c}", "Not Found"),
    ],
)
def test_compare_refusals_are_404(
    api: GitHubApi, state: GitHubState, basehead: str, message: str
) -> None:
    names = {**graph(state), "missing": "f" * 40}
    reply = request(f"{api.url}/repos/{REPO}/compare/{basehead.format(**names)}")
    assert (reply.status, reply.body["message"]) == (404, message.format(**names))


def test_compare_pages_commits_oldest_first(api: GitHubApi, state: GitHubState) -> None:
    shas = state.add_history(REPO, 41)
    url = f"{api.url}/repos/{REPO}/compare/{shas[0]}...{shas[-1]}"
    unpaged = request(url).body
    assert [c["sha"] for c in unpaged["commits"]] == shas[1:]
    assert unpaged["files"] == [] and unpaged["total_commits"] == 40
    second = request(f"{url}?per_page=15&page=2")
    assert [c["sha"] for c in second.body["commits"]] == shas[16:31]
    assert "files" not in second.body  # files come with page 1 only
    assert second.body["total_commits"] == 40
    assert set(links(second.headers["link"])) == {"prev", "next", "last", "first"}
    assert "files" in request(f"{url}?per_page=15").body


def test_unpaged_compare_keeps_the_newest_250(api: GitHubApi, state: GitHubState) -> None:
    shas = state.add_history(REPO, 261)
    body = request(f"{api.url}/repos/{REPO}/compare/{shas[0]}...{shas[-1]}").body
    assert body["total_commits"] == 260
    assert [c["sha"] for c in body["commits"]] == shas[-250:]


def test_get_a_commit(api: GitHubApi, state: GitHubState) -> None:
    sha = graph(state)
    reply = request(f"{api.url}/repos/{REPO}/commits/{sha['b']}")
    commit = reply.body
    assert set(commit) == COMMIT_KEYS | {"stats", "files"}
    assert commit["commit"]["committer"] == {
        "name": "Mona Lisa",
        "email": "mona@example.com",
        "date": "2024-01-03T00:00:00Z",
    }
    assert commit["commit"]["message"] == "b"
    assert [p["sha"] for p in commit["parents"]] == [sha["a"]]
    assert request(f"{api.url}/repos/{REPO}/commits/main").body["sha"] == sha["b"]
    missing = request(f"{api.url}/repos/{REPO}/commits/{'0' * 40}")
    assert (missing.status, missing.body["message"]) == (
        422,
        f"No commit found for SHA: {'0' * 40}",
    )


def test_a_rebased_commit_keeps_its_author_date(api: GitHubApi, state: GitHubState) -> None:
    sha = state.add_commit(
        REPO, "2024-02-01T12:00:00Z", message="rebased", author_date="2024-01-20T08:00:00Z"
    )
    for path in (f"commits/{sha}", f"compare/{sha}...{sha}"):
        body = request(f"{api.url}/repos/{REPO}/{path}").body
        commit = body if path.startswith("commits") else body["base_commit"]
        assert commit["commit"]["author"]["date"] == "2024-01-20T08:00:00Z"
        assert commit["commit"]["committer"]["date"] == "2024-02-01T12:00:00Z"


def test_seeding_refuses_unknown_parents_and_bad_shas(state: GitHubState) -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        state.add_commit(REPO, "2024-01-01T00:00:00Z", ["e" * 40])
    with pytest.raises(ValueError, match="40 lowercase hex"):
        state.add_commit(REPO, "2024-01-01T00:00:00Z", sha="ABC")
    with pytest.raises(ValueError, match="unknown commit"):
        state.add_deployment(REPO, "e" * 40)


def test_seeded_ids_and_shas_are_deterministic() -> None:
    def seed() -> tuple[list[str], int]:
        state = GitHubState()
        shas = state.add_history(REPO, 3)
        return shas, state.add_deployment(REPO, shas[-1])

    assert seed() == seed()
