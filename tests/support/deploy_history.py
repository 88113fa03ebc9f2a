"""Deployment histories for the `cdgen metrics` tests and benchmark, seeded into the GitHub
API double (github_state.GitHubState) at times given in hours from BASE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from support.github_state import GitHubState, iso

REPO = "acme/api"
BASE = datetime(2026, 9, 1, tzinfo=UTC)  # the window's first moment in most tests
SINCE, UNTIL = "2026-09-01", "2026-10-01"
HOUR = 3600.0


def at(hours: float) -> str:
    return iso(BASE + timedelta(hours=hours))


@dataclass
class Seeder:
    state: GitHubState
    repo: str = REPO
    environment: str = "production"
    service: str | None = None  # named in the records' payload, as the action does

    def commits(
        self, count: int, first: float, step: float = 1.0, branch: str = "main"
    ) -> list[str]:
        """``count`` commits on ``branch``, the first at hour ``first``, ``step`` hours apart."""
        return self.state.add_history(
            self.repo, count, start=at(first), step=timedelta(hours=step), branch=branch
        )

    def deploy(self, sha: str, created: float, *statuses: tuple[str, float]) -> int:
        """A deployment created at hour ``created`` with (state, hour) statuses."""
        return self.state.add_deployment(
            self.repo,
            sha,
            self.environment,
            statuses=[(state, at(hour)) for state, hour in statuses],
            created_at=at(created),
            payload=None if self.service is None else {"image": sha, "service": self.service},
        )

    def success(self, sha: str, hour: float, took: float = 0.25) -> int:
        """Started at ``hour``, live and verified ``took`` hours later."""
        return self.deploy(sha, hour, ("in_progress", hour), ("success", hour + took))

    def failure(self, sha: str, hour: float, took: float = 0.25, state: str = "failure") -> int:
        """Started at ``hour``, rolled back (``failure``) or worse (``error``) ``took`` later."""
        return self.deploy(sha, hour, ("in_progress", hour), (state, hour + took))
