"""Metric analysis during a canary step's pause.

Every ``interval`` of the pause, each metric's query (``$canary``, ``$stable`` and
``$namespace`` filled in) is run against the Prometheus. A bound violated, or no data with
``on-no-data: fail``, fails the step at once. A query that cannot be answered (Prometheus
unreachable or erroring) is tried again at the next interval; the step fails after
``MAX_FAILED_CHECKS`` such checks in a row, and it can only pass when its last check
answered: an unreachable Prometheus never lets a canary through.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from cdgen.deploy.canary_options import Analysis, Metric
from cdgen.deploy.canary_report import ERROR, FAIL, PASS, Check, Reading, format_value
from cdgen.deploy.prometheus import PrometheusError, query_prometheus

MAX_FAILED_CHECKS = 3
_NAMES = re.compile(r"\$(canary|stable|namespace)\b")

Ask = Callable[[str], "tuple[float, ...]"]


def fill_in(query: str, names: dict[str, str]) -> str:
    """The query with ``$canary``, ``$stable`` and ``$namespace`` replaced. The values are
    DNS names, which PromQL string literals take as they are."""
    return _NAMES.sub(lambda match: names[match.group(1)], query)


def read_metric(metric: Metric, ask: Ask, query: str) -> Reading:
    """The metric's worst value over its series (NaN is no data)."""
    try:
        values = ask(query)
    except PrometheusError as error:
        return Reading(metric, None, str(error) or "no answer")
    numbers = [value for value in values if not math.isnan(value)]
    if not numbers:
        return Reading(metric, None)
    return Reading(metric, max(numbers) if metric.bound == "max" else min(numbers))


def judge(readings: tuple[Reading, ...], on_no_data: str) -> tuple[str, str]:
    """The check's verdict and its reason: a failure first, then an error, else a pass."""
    errors = []
    for reading in readings:
        metric = reading.metric
        if reading.error:
            errors.append(f"{metric.name}: the query failed: {reading.error}")
        elif reading.value is None:
            if on_no_data == "fail":
                return FAIL, f"{metric.name} had no data (on-no-data: fail)"
        elif metric.violated_by(reading.value):
            bound = f"{metric.bound} {format_value(metric.limit)}"
            return FAIL, f"{metric.name} was {format_value(reading.value)} ({bound})"
    if errors:
        return ERROR, "; ".join(errors)
    return PASS, ""


@dataclass
class Watch:
    """The pause of one step: checks every ``interval`` seconds until ``pause`` has passed."""

    analysis: Analysis
    names: dict[str, str]
    pause: float
    interval: float
    on_check: Callable[[Check], None]
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    ask: Ask | None = None

    def _ask(self, query: str) -> tuple[float, ...]:
        if self.ask is not None:
            return self.ask(query)
        analysis = self.analysis
        return query_prometheus(analysis.prometheus, query, analysis.token)

    def check(self, number: int, seconds: float) -> Check:
        readings = tuple(
            read_metric(metric, self._ask, fill_in(metric.query, self.names))
            for metric in self.analysis.metrics
        )
        verdict, reason = judge(readings, self.analysis.on_no_data)
        return Check(number, seconds, readings, verdict, reason)

    def run(self) -> list[Check]:
        """The checks of the pause; it stops at the first that fails the step."""
        started = self.monotonic()
        end = started + self.pause
        checks: list[Check] = []
        failed_in_a_row = 0
        due = min(started + self.interval, end)
        while True:
            wait = due - self.monotonic()
            if wait > 0:
                self.sleep(wait)
            check = self.check(len(checks) + 1, self.monotonic() - started)
            checks.append(check)
            self.on_check(check)
            failed_in_a_row = failed_in_a_row + 1 if check.verdict == ERROR else 0
            last = due >= end
            if check.verdict == FAIL or failed_in_a_row >= MAX_FAILED_CHECKS:
                return checks
            if last:
                return checks
            # A slow check skips the times it overran; the last check is always at the end.
            now = self.monotonic()
            while due <= now and due < end:
                due = min(due + self.interval, end)


def step_failure(checks: list[Check]) -> str:
    """Why the step failed, or "" when it passed: its last check must have passed."""
    if not checks:
        return "no check ran"
    last = checks[-1]
    if last.verdict == FAIL:
        return last.reason
    if last.verdict == ERROR:
        failed = sum(1 for check in checks[-MAX_FAILED_CHECKS:] if check.verdict == ERROR)
        return f"Prometheus gave no answer ({failed} check(s) in a row): {last.reason}"
    return ""


def describe_check(check: Check) -> str:
    """The log line of a check: each reading against its bound, and the verdict."""
    readings = ", ".join(
        f"{r.metric.name} {r.shown} ({r.metric.bound} {format_value(r.metric.limit)})"
        for r in check.readings
    )
    verdict = check.verdict + (f": {check.reason}" if check.reason else "")
    return f"check {check.number} at {check.seconds:.0f}s: {readings}: {verdict}"
