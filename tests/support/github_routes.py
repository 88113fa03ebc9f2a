"""The endpoints the GitHub REST API double answers, one function each, with GitHub's paging.

Paging follows https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api:
``per_page`` (default 30, at most 100) and ``page``; a ``Link`` header with ``prev``,
``next``, ``last`` and ``first`` (those that apply) whenever there is more than one page,
pointing at ``/repositories/{id}/...`` URLs as GitHub's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from support.github_rules import create_deployment, create_status
from support.github_shapes import (
    Urls,
    commit_json,
    comparison_json,
    deployment_json,
    status_json,
)
from support.github_state import ApiError, GitHubState, Repo

# Without paging parameters, compare lists at most this many commits: the newest ones.
COMPARE_UNPAGED = 250


@dataclass
class Call:
    """One request, routed: what an endpoint function needs to answer it."""

    state: GitHubState
    urls: Urls
    repo: Repo
    rest: str  # the path after /repos/{owner}/{repo}
    groups: tuple[str, ...]
    query: dict[str, list[str]]
    body: Any
    login: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


Endpoint = Callable[[Call], Answer]


def _number(call: Call, name: str, default: int) -> int:
    values = call.query.get(name)
    if not values or not values[-1].isdigit() or int(values[-1]) < 1:
        return default
    return int(values[-1])


def _page(call: Call, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    per_page = min(_number(call, "per_page", 30), 100)
    page = _number(call, "page", 1)
    last = max(1, -(-len(items) // per_page))
    chosen = items[(page - 1) * per_page : page * per_page]
    if last == 1 and page == 1:
        return chosen, {}
    params = {name: values[-1] for name, values in call.query.items() if name != "page"}

    def link(number: int, rel: str) -> str:
        query = urlencode({**params, "page": number})
        return f'<{call.urls.api}/repositories/{call.repo.id}{call.rest}?{query}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
        links.append(link(last, "last"))
    if page > 1:
        links.append(link(1, "first"))
    return chosen, {"Link": ", ".join(links)}


def _deployment_id(call: Call) -> int:
    return int(call.groups[0])


def list_deployments(call: Call) -> Answer:
    filters = {
        k: v[-1] for k, v in call.query.items() if k in ("sha", "ref", "task", "environment")
    }
    found = call.state.list_deployments(call.repo, filters)
    chosen, headers = _page(call, found)
    body = [deployment_json(call.urls, call.repo, d) for d in chosen]
    return Answer(200, body, headers)


def post_deployment(call: Call) -> Answer:
    made = create_deployment(call.state, call.repo, call.body, call.login)
    body = deployment_json(call.urls, call.repo, made)
    return Answer(201, body, {"Location": body["url"]})


def get_deployment(call: Call) -> Answer:
    found = call.state.deployment(call.repo, _deployment_id(call))
    return Answer(200, deployment_json(call.urls, call.repo, found), {})


def list_statuses(call: Call) -> Answer:
    found = call.state.deployment(call.repo, _deployment_id(call))
    with call.state.lock:
        newest_first = sorted(found.statuses, key=lambda s: s.id, reverse=True)
    chosen, headers = _page(call, newest_first)
    body = [status_json(call.urls, call.repo, found, s) for s in chosen]
    return Answer(200, body, headers)


def post_status(call: Call) -> Answer:
    found = call.state.deployment(call.repo, _deployment_id(call))
    made = create_status(call.state, call.repo, found, call.body, call.login)
    body = status_json(call.urls, call.repo, found, made)
    return Answer(201, body, {"Location": body["url"]})


def get_status(call: Call) -> Answer:
    found = call.state.deployment(call.repo, _deployment_id(call))
    for status in found.statuses:
        if status.id == int(call.groups[1]):
            return Answer(200, status_json(call.urls, call.repo, found, status), {})
    raise ApiError(404, "Not Found")


def get_commit(call: Call) -> Answer:
    commit = call.state.commit(call.repo, call.groups[0])
    return Answer(200, commit_json(call.urls, call.repo, commit, detail=True), {})


def compare(call: Call) -> Answer:
    base, dots, head = call.groups[0].partition("...")
    if not dots or not base or not head:
        raise ApiError(404, "Not Found")
    comparison = call.state.compare(call.repo, base, head)
    shas = comparison.commits
    paged = "per_page" in call.query or "page" in call.query
    if paged:
        shas, headers = _page(call, shas)
    else:
        shas, headers = shas[-COMPARE_UNPAGED:], {}
    commits = [commit_json(call.urls, call.repo, call.repo.commits[sha]) for sha in shas]
    first = not paged or _number(call, "page", 1) == 1
    body = comparison_json(call.urls, call.repo, (base, head), comparison, commits, first)
    return Answer(200, body, headers)


# (method, pattern after /repos/{owner}/{repo}, endpoint, the label requests are counted by)
ROUTES: list[tuple[str, re.Pattern[str], Endpoint, str]] = [
    (method, re.compile(pattern), endpoint, f"{method} /repos/{{owner}}/{{repo}}{template}")
    for method, pattern, endpoint, template in [
        ("GET", r"/deployments", list_deployments, "/deployments"),
        ("POST", r"/deployments", post_deployment, "/deployments"),
        ("GET", r"/deployments/(\d+)", get_deployment, "/deployments/{deployment_id}"),
        (
            "GET",
            r"/deployments/(\d+)/statuses",
            list_statuses,
            "/deployments/{deployment_id}/statuses",
        ),
        (
            "POST",
            r"/deployments/(\d+)/statuses",
            post_status,
            "/deployments/{deployment_id}/statuses",
        ),
        (
            "GET",
            r"/deployments/(\d+)/statuses/(\d+)",
            get_status,
            "/deployments/{deployment_id}/statuses/{status_id}",
        ),
        ("GET", r"/commits/([^/]+)", get_commit, "/commits/{ref}"),
        # Branch names may hold slashes: release/2024...abc1234
        ("GET", r"/compare/(.+)", compare, "/compare/{basehead}"),
    ]
]

REPO_PATH = re.compile(r"/(?:repos/([^/]+)/([^/]+)|repositories/(\d+))(/.*)?")


@dataclass(frozen=True)
class Routed:
    endpoint: Endpoint
    label: str
    owner: str
    name: str
    repo_id: int | None  # set when the path is /repositories/{id}/..., as Link URLs are
    rest: str  # the path after the repository part
    groups: tuple[str, ...]


def route(method: str, path: str) -> Routed | None:
    found = REPO_PATH.fullmatch(path)
    if found is None:
        return None
    owner, name, repo_id, rest = found.groups()
    rest = rest or ""
    for verb, pattern, endpoint, label in ROUTES:
        matched = pattern.fullmatch(rest)
        if verb == method and matched:
            number = int(repo_id) if repo_id else None
            return Routed(endpoint, label, owner or "", name or "", number, rest, matched.groups())
    return None
