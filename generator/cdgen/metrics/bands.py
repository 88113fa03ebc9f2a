"""DORA's software delivery performance levels, from one cited report edition: the
Accelerate State of DevOps Report 2023 (DORA, Google Cloud), which describes four clusters.

- elite: deploys on demand (multiple deploys a day); change lead time less than one day;
  change failure rate 5%; failed deployment recovery time less than one hour.
- high: between once a day and once a week; between one day and one week; 10%; less than
  one day.
- medium: between once a week and once a month; between one week and one month; 15%;
  between one day and one week.
- low: between once a week and once a month; between one week and one month; 64%; between
  one month and six months.

A figure gets the best level whose description it meets, a cluster's failure rate read as
"at most"; anything short of medium is low (the low cluster's throughput overlaps
medium's, so it adds no threshold of its own). A month is 30 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

EDITION = "Accelerate State of DevOps Report 2023"
PUBLISHER = "DORA"
URL = "https://dora.dev/research/2023/dora-report/"

DAY = 86_400.0
HOUR = 3_600.0
WEEK = 7 * DAY
MONTH = 30 * DAY
LEVELS = ("elite", "high", "medium")  # then low

# (the least a level needs, for each level in LEVELS): higher is better
FREQUENCY_PER_DAY = (1.0, 1 / 7, 1 / 30)
# (the most a level allows): lower is better; a "less than" in the report is strict
LEAD_TIME_SECONDS = (DAY, WEEK, MONTH)
FAILURE_RATE = (0.05, 0.10, 0.15)
RECOVERY_SECONDS = (HOUR, DAY, WEEK)


def frequency_level(per_day: float) -> str:
    return _first(per_day >= least for least in FREQUENCY_PER_DAY)


def lead_time_level(median_seconds: float | None) -> str | None:
    if median_seconds is None:
        return None
    return _within(median_seconds, LEAD_TIME_SECONDS, strict=(True, False, False))


def failure_rate_level(rate: float | None) -> str | None:
    if rate is None:
        return None
    return _within(rate, FAILURE_RATE, strict=(False, False, False))


def recovery_level(median_seconds: float | None) -> str | None:
    if median_seconds is None:
        return None
    return _within(median_seconds, RECOVERY_SECONDS, strict=(True, True, False))


def _within(value: float, limits: Sequence[float], strict: Sequence[bool]) -> str:
    return _first(
        value < limit if below else value <= limit
        for limit, below in zip(limits, strict, strict=True)
    )


def _first(meets: Iterable[bool]) -> str:
    for level, met in zip(LEVELS, meets, strict=True):
        if met:
            return level
    return "low"
