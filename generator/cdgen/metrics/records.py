"""Reading GitHub's deployment records, statuses and commits into typed values.

Deployments are listed newest first. Reading stops at the first one, in that order, that
succeeded before the window: the predecessor of the window's first success. Neither older
deployments nor their statuses are requested. Deployments created at or after the end of
the window cannot belong to it, so their statuses are not read either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from cdgen.deploy.recording import record_service
from cdgen.errors import CdgenError
from cdgen.metrics.client import MAX_PAGES, GitHubClient, NotFound
from cdgen.metrics.outcomes import Outcome, StatusRecord, classify

PER_PAGE = "100"
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class Window:
    """[since 00:00 UTC, until 00:00 UTC)."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until, time(), UTC)

    @property
    def days(self) -> int:
        return (self.until - self.since).days

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class History:
    outcomes: list[Outcome]  # the deployments read that succeeded or failed
    complete: bool  # True: read back to the first deployment ever recorded


@dataclass(frozen=True)
class CommitRecord:
    sha: str
    committed_at: datetime  # the committer date
    parents: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    status: str  # ahead | behind | identical | diverged
    commits: list[CommitRecord]  # in head, not in base


@dataclass(frozen=True)
class Histories:
    histories: dict[str | None, History]  # per service; None: the records naming none
    services_seen: frozenset[str]  # the services named by the records read


def read_histories(
    client: GitHubClient,
    repo: str,
    environment: str,
    window: Window,
    services: frozenset[str] | None,
) -> Histories:
    """The history of each of ``services`` (the records whose payload names it), or, when
    ``services`` is None, of every service the records name and of the records naming none.
    Reading stops once each history has its predecessor (the first success before the
    window); the statuses of records of a service not asked for are never requested."""
    outcomes: dict[str | None, list[Outcome]] = {key: [] for key in services or ()}
    finished: set[str | None] = set()
    seen_services: set[str] = set()
    path = f"/repos/{repo}/deployments"
    seen: set[int] = set()
    for item in client.paginate(path, {"environment": environment, "per_page": PER_PAGE}):
        ident, sha, created = _deployment(item, client.api_url + path)
        key = record_service(item)
        if key is not None:
            seen_services.add(key)
        if services is not None and key not in services:
            continue
        found = outcomes.setdefault(key, [])
        # A deployment made while paging shifts the pages: the next one repeats an item.
        if key in finished or created >= window.end or ident in seen:
            continue
        seen.add(ident)
        outcome = classify(ident, sha, read_statuses(client, repo, ident))
        if outcome is None:
            continue
        found.append(outcome)
        if outcome.succeeded and outcome.time < window.start:
            finished.add(key)
            if finished == outcomes.keys():
                break
    histories = {key: History(found, key not in finished) for key, found in outcomes.items()}
    histories.setdefault(None, History([], complete=True))
    return Histories(histories, frozenset(seen_services))


def read_statuses(client: GitHubClient, repo: str, deployment_id: int) -> list[StatusRecord]:
    path = f"/repos/{repo}/deployments/{deployment_id}/statuses"
    where = client.api_url + path
    return [
        StatusRecord(_int(item, "id", where), _str(item, "state", where), _time(item, where))
        for item in client.paginate(path, {"per_page": PER_PAGE})
    ]


class GitHubCommits:
    """The commits behind deployments: ``compare`` between two of them, or one commit."""

    def __init__(self, client: GitHubClient, repo: str) -> None:
        self.client = client
        self.repo = repo
        self._compared: dict[tuple[str, str], Comparison | None] = {}

    def compare(self, base: str, head: str) -> Comparison | None:
        """None when the two commits share no history (GitHub answers 404)."""
        if (base, head) not in self._compared:
            self._compared[base, head] = self._compare(base, head)
        return self._compared[base, head]

    def _compare(self, base: str, head: str) -> Comparison | None:
        path = f"/repos/{self.repo}/compare/{base}...{head}"
        where = self.client.api_url + path
        commits: dict[str, CommitRecord] = {}
        for page in range(1, MAX_PAGES + 1):
            try:
                reply = self.client.get(path, {"per_page": PER_PAGE, "page": str(page)})
            except NotFound:
                if page == 1:
                    return None
                raise
            body = _object(reply.body, where)
            listed = body.get("commits")
            if not isinstance(listed, list):
                raise _unexpected(where, "commits")
            for item in listed:  # oldest first, up to 100 a page
                commit = _commit(item, where)
                commits.setdefault(commit.sha, commit)
            if not listed or len(commits) >= _int(body, "total_commits", where):
                return Comparison(_str(body, "status", where), list(commits.values()))
        raise CdgenError(f"{where}: the pages of the comparison never end")

    def commit(self, sha: str) -> CommitRecord:
        path = f"/repos/{self.repo}/commits/{sha}"
        return _commit(self.client.get(path).body, self.client.api_url + path)


def _deployment(item: Any, where: str) -> tuple[int, str, datetime]:
    sha = _str(item, "sha", where)
    if not SHA.fullmatch(sha):
        raise _unexpected(where, "sha")
    return _int(item, "id", where), sha, _time(item, where)


def _commit(item: Any, where: str) -> CommitRecord:
    sha = _str(item, "sha", where)
    if not SHA.fullmatch(sha):
        raise _unexpected(where, "sha")
    committer = _object(_object(item.get("commit"), where).get("committer"), where)
    parents = item.get("parents")
    if not isinstance(parents, list):
        raise _unexpected(where, "parents")
    return CommitRecord(
        sha,
        _time(committer, where, "date"),
        tuple(_str(parent, "sha", where) for parent in parents),
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CdgenError(f"{where}: unexpected answer, not a JSON object as GitHub's API sends")
    return value


def _str(item: Any, key: str, where: str) -> str:
    value = _object(item, where).get(key)
    if not isinstance(value, str):
        raise _unexpected(where, key)
    return value


def _int(item: Any, key: str, where: str) -> int:
    value = _object(item, where).get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _unexpected(where, key)
    return value


def _time(item: Any, where: str, key: str = "created_at") -> datetime:
    text = _str(item, key, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _unexpected(where, key) from None
    if moment.tzinfo is None:
        raise _unexpected(where, key)
    return moment.astimezone(UTC)


def _unexpected(where: str, key: str) -> CdgenError:
    return CdgenError(f"{where}: unexpected answer, `{key}` missing or malformed")
