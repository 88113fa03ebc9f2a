"""DORA's four keys from deployment outcomes, exactly as the README defines them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdgen.metrics.leadtime import CommitSource, lead_times
from cdgen.metrics.outcomes import Outcome
from cdgen.metrics.records import History, Window


@dataclass(frozen=True)
class Metrics:
    repository: str
    environment: str
    window: Window
    successful: int
    failed: int
    deploy_days: int
    lead_times: tuple[float, ...]  # seconds, one per commit counted in the window
    recoveries: tuple[float, ...]  # seconds, one per failure recovered in the window
    unrecovered: int
    service: str | None = None  # None: every record of the environment

    @property
    def total(self) -> int:
        return self.successful + self.failed

    @property
    def per_day(self) -> float:
        return self.successful / self.window.days

    @property
    def change_failure_rate(self) -> float | None:
        return self.failed / self.total if self.total else None

    @property
    def lead_time_median(self) -> float | None:
        return median(self.lead_times)

    @property
    def lead_time_p90(self) -> float | None:
        return nearest_rank(self.lead_times, 0.9)

    @property
    def recovery_median(self) -> float | None:
        return median(self.recoveries)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON keys, in the documented order."""
        rate = self.change_failure_rate
        named = {} if self.service is None else {"service": self.service}
        return {
            "repository": self.repository,
            "environment": self.environment,
            **named,
            "since": self.window.since.isoformat(),
            "until": self.window.until.isoformat(),
            "deployments": {
                "total": self.total,
                "successful": self.successful,
                "failed": self.failed,
            },
            "deployment_frequency": {
                "per_day": round(self.per_day, 4),
                "deploy_days": self.deploy_days,
            },
            "lead_time_seconds": {
                "median": self.lead_time_median,
                "p90": self.lead_time_p90,
                "commits": len(self.lead_times),
            },
            "change_failure_rate": None if rate is None else round(rate, 4),
            "recovery_time_seconds": {
                "median": self.recovery_median,
                "failures_recovered": len(self.recoveries),
                "unrecovered": self.unrecovered,
            },
        }


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The ⌈share·n⌉-th smallest value."""
    if not values:
        return None
    return float(sorted(values)[math.ceil(share * len(values)) - 1])


def compute_metrics(
    repository: str,
    environment: str,
    window: Window,
    history: History,
    source: CommitSource,
    *,
    service: str | None = None,
) -> Metrics:
    successes = sorted((o for o in history.outcomes if o.succeeded), key=_chronological)
    failures = sorted((o for o in history.outcomes if not o.succeeded), key=_chronological)
    in_window = [o for o in successes if o.time in window]
    failed = [o for o in failures if o.time in window]
    recoveries, unrecovered = recovery_times(failed, successes, window)
    return Metrics(
        repository=repository,
        environment=environment,
        window=window,
        successful=len(in_window),
        failed=len(failed),
        deploy_days=len({o.time.date() for o in in_window}),
        lead_times=tuple(lead_times(successes, window, history.complete, source)),
        recoveries=tuple(recoveries),
        unrecovered=unrecovered,
        service=service,
    )


def _chronological(outcome: Outcome) -> tuple[Any, int]:
    return outcome.time, outcome.deployment_id


def recovery_times(
    failed: list[Outcome], successes: list[Outcome], window: Window
) -> tuple[list[float], int]:
    """Per failure: the time to the first successful deployment after it, when that success
    falls before the end of the window; the others are unrecovered."""
    recovered: list[float] = []
    unrecovered = 0
    for failure in failed:
        after = next((s for s in successes if s.time > failure.time), None)
        if after is not None and after.time < window.end:
            recovered.append((after.time - failure.time).total_seconds())
        else:
            unrecovered += 1
    return recovered, unrecovered
