"""The data behind the GitHub REST API double (github_api.py): repositories, a commit graph,
deployments and their statuses, with the rules GitHub applies when they are created.

Deterministic by construction: repository, deployment and status ids count up from 1 in
creation order, commit SHAs are derived from their content when not given, and every
timestamp comes from the seed or from the state's clock (a ticking clock by default).
Errors are raised as ApiError with GitHub's status code and message; github_api.py turns
them into GitHub's error body.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from support.github_graph import Comparison, compare_commits

# GitHub's deployment status states (REST "Create a deployment status", `state`).
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
MAX_STATUS_DESCRIPTION = 140
REST_DOCS = "https://docs.github.com/rest"
DEPLOYMENTS_DOCS = "https://docs.github.com/rest/deployments/deployments#create-a-deployment"
STATUSES_DOCS = "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status"
BOT = "github-actions[bot]"  # who GITHUB_TOKEN acts as
FULL_SHA = re.compile(r"[0-9a-f]{40}")


class ApiError(Exception):
    """An error answer: GitHub's status code, ``message`` and optional ``errors`` list."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        documentation_url: str = REST_DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class TickingClock:
    """A deterministic clock: each reading is one second after the previous one."""

    def __init__(self, start: str = "2024-01-01T00:00:00Z") -> None:
        self._next = parse_time(start)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now, self._next = self._next, self._next + timedelta(seconds=1)
        return now


@dataclass
class Commit:
    sha: str
    parents: list[str]
    date: str  # committer date, ISO 8601 UTC
    message: str
    author: str = "Mona Lisa"
    email: str = "mona@example.com"
    authored: str | None = None  # author date when it differs (a rebase, a cherry-pick)

    @property
    def author_date(self) -> str:
        return self.authored or self.date


@dataclass
class Status:
    id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    created_at: str
    creator: str = BOT


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    payload: Any
    environment: str
    original_environment: str
    description: str | None
    created_at: str
    transient: bool
    production: bool
    statuses: list[Status] = field(default_factory=list)
    creator: str = BOT

    @property
    def updated_at(self) -> str:
        return self.statuses[-1].created_at if self.statuses else self.created_at

    @property
    def latest_state(self) -> str:
        return self.statuses[-1].state if self.statuses else ""


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    deployments: dict[int, Deployment] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def resolve(self, ref: str) -> Commit | None:
        """A branch name, a full SHA or an unambiguous prefix of at least 7 characters."""
        if ref in self.branches:
            return self.commits[self.branches[ref]]
        if ref in self.commits:
            return self.commits[ref]
        if re.fullmatch(r"[0-9a-f]{7,39}", ref):
            found = [sha for sha in self.commits if sha.startswith(ref)]
            if len(found) == 1:
                return self.commits[found[0]]
        return None


class GitHubState:
    """Everything the double serves; mutate it only through these methods (they lock)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock: Callable[[], datetime] = clock or TickingClock()
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self._ids = {"repo": 0, "deployment": 0, "status": 0}

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def timestamp(self, given: str | None = None) -> str:
        return iso(parse_time(given)) if given else iso(self.clock())

    # --- seeding -------------------------------------------------------------------------

    def add_repo(self, full_name: str, default_branch: str = "main") -> Repo:
        owner, _, name = full_name.partition("/")
        with self.lock:
            key = full_name.lower()
            if key not in self.repos:
                repo = Repo(owner, name, self.next_id("repo"), default_branch)
                self.repos[key] = repo
            return self.repos[key]

    def add_commit(
        self,
        full_name: str,
        date: str,
        parents: Iterable[str] = (),
        sha: str | None = None,
        message: str = "",
        branch: str | None = None,
        author_date: str | None = None,
    ) -> str:
        """Add a commit (its parents must exist); ``branch`` then points at it. ``date`` is
        the committer date; the author date is the same unless ``author_date`` is given."""
        repo = self.add_repo(full_name)
        parents = list(parents)
        with self.lock:
            unknown = [parent for parent in parents if parent not in repo.commits]
            if unknown:
                raise ValueError(f"unknown parent commits {unknown} in {full_name}")
            text = f"{full_name}\n{parents}\n{date}\n{message}"
            sha = sha or hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
            if not FULL_SHA.fullmatch(sha):
                raise ValueError(f"a commit SHA is 40 lowercase hex digits: {sha!r}")
            repo.commits[sha] = Commit(
                sha,
                parents,
                self.timestamp(date),
                message or f"Commit {sha[:7]}",
                authored=self.timestamp(author_date) if author_date else None,
            )
            if branch:
                repo.branches[branch] = sha
            return sha

    def add_history(
        self,
        full_name: str,
        count: int,
        start: str = "2024-01-01T00:00:00Z",
        step: timedelta = timedelta(hours=1),
        branch: str = "main",
    ) -> list[str]:
        """A linear run of ``count`` commits on ``branch`` (continuing from its head),
        committed ``step`` apart from ``start``; returns their SHAs, oldest first."""
        repo = self.add_repo(full_name)
        head = repo.branches.get(branch)
        moment = parse_time(start)
        shas = []
        for index in range(count):
            parents = [head] if head else []
            head = self.add_commit(
                full_name, iso(moment), parents, message=f"Change {index + 1}", branch=branch
            )
            shas.append(head)
            moment += step
        return shas

    def add_deployment(
        self,
        full_name: str,
        sha: str,
        environment: str = "production",
        statuses: Iterable[tuple[str, str]] = (),
        created_at: str | None = None,
        payload: Any = None,
        task: str = "deploy",
        production: bool | None = None,
        transient: bool = False,
        description: str = "",
    ) -> int:
        """Record a past deployment of a known commit with its (state, created_at) statuses,
        exactly as given: no auto-inactivation, which only happens for new statuses."""
        repo = self.add_repo(full_name)
        with self.lock:
            commit = repo.resolve(sha)
            if commit is None:
                raise ValueError(f"unknown commit {sha} in {full_name}")
            deployment = Deployment(
                id=self.next_id("deployment"),
                sha=commit.sha,
                ref=sha,
                task=task,
                payload={} if payload is None else payload,
                environment=environment,
                original_environment=environment,
                description=description,
                created_at=self.timestamp(created_at),
                transient=transient,
                production=environment == "production" if production is None else production,
            )
            repo.deployments[deployment.id] = deployment
            for state, at in statuses:
                if state not in STATES:
                    raise ValueError(f"unknown deployment status state {state!r}")
                deployment.statuses.append(
                    Status(
                        self.next_id("status"), state, "", environment, "", "", self.timestamp(at)
                    )
                )
            return deployment.id

    # --- reads ---------------------------------------------------------------------------

    def repo(self, owner: str, name: str) -> Repo:
        found = self.repos.get(f"{owner}/{name}".lower())
        if found is None:
            raise ApiError(404, "Not Found")
        return found

    def repo_by_id(self, repo_id: int) -> Repo:
        for repo in self.repos.values():
            if repo.id == repo_id:
                return repo
        raise ApiError(404, "Not Found")

    def deployment(self, repo: Repo, deployment_id: int) -> Deployment:
        found = repo.deployments.get(deployment_id)
        if found is None:
            raise ApiError(404, "Not Found")
        return found

    def list_deployments(self, repo: Repo, filters: dict[str, str]) -> list[Deployment]:
        """Newest first, as GitHub lists them; filters compare the recorded values."""
        with self.lock:
            found = sorted(repo.deployments.values(), key=lambda d: d.id, reverse=True)
        for name in ("sha", "ref", "task", "environment"):
            if name in filters:
                found = [d for d in found if getattr(d, name) == filters[name]]
        return found

    def commit(self, repo: Repo, ref: str) -> Commit:
        found = repo.resolve(ref)
        if found is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return found

    def compare(self, repo: Repo, base: str, head: str) -> Comparison:
        base_commit, head_commit = repo.resolve(base), repo.resolve(head)
        if base_commit is None or head_commit is None:
            raise ApiError(404, "Not Found")
        with self.lock:
            comparison = compare_commits(repo.commits, base_commit.sha, head_commit.sha)
        if comparison is None:
            raise ApiError(404, f"No common ancestor between {base} and {head}.")
        return comparison
