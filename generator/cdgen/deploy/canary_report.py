"""What a canary release did, as data: each step's real traffic share, every check's readings
against the bounds, and each decision. The job summary is rendered from it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cdgen.deploy.canary_options import Metric

PASS, FAIL, ERROR = "pass", "fail", "error"


def format_value(value: float) -> str:
    """A metric value for people: 4 significant digits, never scientific for usual sizes."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value != 0 and (abs(value) < 1e-4 or abs(value) >= 1e7):
        return f"{value:.3e}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class Reading:
    """One metric at one check: its worst value over the series, None for no data (an empty
    result or only NaN), or the error that kept the query from answering."""

    metric: Metric
    value: float | None
    error: str = ""

    @property
    def shown(self) -> str:
        if self.error:
            return "query failed"
        return "no data" if self.value is None else format_value(self.value)


@dataclass(frozen=True)
class Check:
    number: int
    seconds: float  # since the step's pause began
    readings: tuple[Reading, ...]
    verdict: str  # PASS, FAIL (a bound violated, or no data that fails) or ERROR
    reason: str = ""


@dataclass
class StepReport:
    number: int
    percent: int
    share: float  # the real share of traffic, in percent
    canary_replicas: int
    stable_replicas: int
    checks: list[Check] = field(default_factory=list)
    decision: str = "not run"

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.percent}%)"


@dataclass
class CanaryReport:
    traffic: str
    canary: str  # the canary Deployment's name
    metrics: tuple[Metric, ...]
    steps: list[StepReport] = field(default_factory=list)
    decision: str = "not started"
    # Wall-clock seconds spent bringing the canary up, analysing it and removing it.
    seconds: float = 0.0
    removal: str = ""  # what removing the canary did
