"""GitHub's JSON shapes for what the REST API double serves, field for field and in GitHub's
order, after the documented response examples:

- deployment:         https://docs.github.com/rest/deployments/deployments#get-a-deployment
- deployment status:  https://docs.github.com/rest/deployments/statuses#get-a-deployment-status
- commit:             https://docs.github.com/rest/commits/commits#get-a-commit
- comparison:         https://docs.github.com/rest/commits/commits#compare-two-commits
- simple user:        the ``creator`` of deployments and statuses

Node ids use GitHub's legacy encoding, base64 of ``0<len(type)>:<Type><id>``
(``MDEwOkRlcGxveW1lbnQx`` is deployment 1).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from support.github_graph import Comparison
from support.github_state import BOT, Commit, Deployment, Repo, Status

BOT_ID = 41898282  # github-actions[bot]'s real id


@dataclass(frozen=True)
class Urls:
    api: str  # the double's own root, as https://api.github.com is GitHub's
    web: str = "https://github.com"

    def repo(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"


def node_id(type_name: str, ident: int | str) -> str:
    raw = f"0{len(type_name)}:{type_name}{ident}"
    return base64.b64encode(raw.encode()).decode()


def user_id(login: str) -> int:
    if login == BOT:
        return BOT_ID
    return 1000 + int(hashlib.sha1(login.encode(), usedforsecurity=False).hexdigest()[:6], 16)


def simple_user(urls: Urls, login: str) -> dict[str, Any]:
    ident = user_id(login)
    bot = login.endswith("[bot]")
    api = f"{urls.api}/users/{login}"
    return {
        "login": login,
        "id": ident,
        "node_id": node_id("Bot" if bot else "User", ident),
        "avatar_url": f"https://avatars.githubusercontent.com/{'in/15368' if bot else 'u/'}{ident}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.web}/{'apps/github-actions' if bot else login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Bot" if bot else "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def deployment_json(urls: Urls, repo: Repo, deployment: Deployment) -> dict[str, Any]:
    url = f"{urls.repo(repo)}/deployments/{deployment.id}"
    return {
        "url": url,
        "id": deployment.id,
        "node_id": node_id("Deployment", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.ref,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.original_environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": simple_user(urls, deployment.creator),
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
        "statuses_url": f"{url}/statuses",
        "repository_url": urls.repo(repo),
        "transient_environment": deployment.transient,
        "production_environment": deployment.production,
        "performed_via_github_app": None,
    }


def status_json(urls: Urls, repo: Repo, deployment: Deployment, status: Status) -> dict[str, Any]:
    deployment_url = f"{urls.repo(repo)}/deployments/{deployment.id}"
    return {
        "url": f"{deployment_url}/statuses/{status.id}",
        "id": status.id,
        "node_id": node_id("DeploymentStatus", status.id),
        "state": status.state,
        "creator": simple_user(urls, status.creator),
        "description": status.description,
        "environment": status.environment,
        "target_url": status.log_url,
        "created_at": status.created_at,
        "updated_at": status.created_at,
        "deployment_url": deployment_url,
        "repository_url": urls.repo(repo),
        "environment_url": status.environment_url,
        "log_url": status.log_url,
        "performed_via_github_app": None,
    }


def commit_json(urls: Urls, repo: Repo, commit: Commit, detail: bool = False) -> dict[str, Any]:
    """``detail``: the single-commit answer, which adds stats and files."""
    api = urls.repo(repo)
    web = f"{urls.web}/{repo.full_name}"
    tree = hashlib.sha1(f"tree {commit.sha}".encode(), usedforsecurity=False).hexdigest()
    author = {"name": commit.author, "email": commit.email, "date": commit.author_date}
    committer = {"name": commit.author, "email": commit.email, "date": commit.date}
    shape: dict[str, Any] = {
        "url": f"{api}/commits/{commit.sha}",
        "sha": commit.sha,
        "node_id": node_id("Commit", f"{repo.id}:{commit.sha}"),
        "html_url": f"{web}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{commit.sha}",
            "author": author,
            "committer": committer,
            "message": commit.message,
            "tree": {"url": f"{api}/git/trees/{tree}", "sha": tree},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        # Seeded authors have no GitHub account: GitHub shows null for those.
        "author": None,
        "committer": None,
        "parents": [
            {"url": f"{api}/commits/{p}", "html_url": f"{web}/commit/{p}", "sha": p}
            for p in commit.parents
        ],
    }
    if detail:
        shape["stats"] = {"total": 0, "additions": 0, "deletions": 0}
        shape["files"] = []
    return shape


def comparison_json(
    urls: Urls,
    repo: Repo,
    basehead: tuple[str, str],
    comparison: Comparison,
    commits: list[dict[str, Any]],
    first_page: bool,
) -> dict[str, Any]:
    base, head = basehead
    api = urls.repo(repo)
    web = f"{urls.web}/{repo.full_name}"
    base_commit, head_commit = repo.resolve(base), repo.resolve(head)
    merge_base = repo.commits[comparison.merge_base]
    assert base_commit is not None and head_commit is not None
    short = f"{repo.owner}:{base_commit.sha[:7]}...{repo.owner}:{head_commit.sha[:7]}"
    shape: dict[str, Any] = {
        "url": f"{api}/compare/{base}...{head}",
        "html_url": f"{web}/compare/{base}...{head}",
        "permalink_url": f"{web}/compare/{short}",
        "diff_url": f"{web}/compare/{base}...{head}.diff",
        "patch_url": f"{web}/compare/{base}...{head}.patch",
        "base_commit": commit_json(urls, repo, base_commit),
        "merge_base_commit": commit_json(urls, repo, merge_base),
        "status": comparison.status,
        "ahead_by": comparison.ahead_by,
        "behind_by": comparison.behind_by,
        "total_commits": comparison.ahead_by,
        "commits": commits,
    }
    if first_page:  # paged answers list the changed files on page 1 only
        shape["files"] = []
    return shape
