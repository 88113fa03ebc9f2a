"""The canary inputs (``strategy: canary``), checked like every other input before anything
touches the cluster: the traffic mode, the steps and their pause, and the analysis (a JSON
object naming the Prometheus, the check interval, what no data means, and the metrics with
their bounds)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cdgen.deploy.durations import check_duration
from cdgen.deploy.records_target import token_problem

STRATEGIES = ("rolling", "canary")
TRAFFIC = ("replicas", "gateway")
ON_NO_DATA = ("fail", "pass")
MAX_STEPS = 10
MAX_METRICS = 10
MAX_QUERY = 4096
MAX_PAUSE_SECONDS = 6 * 3600
MAX_INTERVAL_SECONDS = 3600
ANALYSIS_KEYS = {"prometheus", "interval", "on-no-data", "metrics"}
_METRIC_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_ROUTE = re.compile(
    r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*"
)
_STEPS = re.compile(rf"[0-9]{{1,2}}(?:,[0-9]{{1,2}}){{0,{MAX_STEPS - 1}}}")
# A query is one PromQL expression: newlines and tabs are fine, other controls are not.
_QUERY_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Metric:
    name: str
    query: str
    bound: str  # "max": the value must not exceed limit; "min": must not fall below it
    limit: float

    def violated_by(self, value: float) -> bool:
        return value > self.limit if self.bound == "max" else value < self.limit


@dataclass(frozen=True)
class Analysis:
    prometheus: str = field(repr=False)  # may come from a secret: never shown
    interval: int
    on_no_data: str
    metrics: tuple[Metric, ...]
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class CanaryOptions:
    traffic: str
    route: str
    steps: tuple[int, ...]
    pause: int
    analysis: Analysis


def _steps(text: str, problems: list[str]) -> tuple[int, ...]:
    steps = tuple(int(step) for step in text.split(",")) if _STEPS.fullmatch(text) else ()
    if not steps or any(not 1 <= s <= 99 for s in steps) or list(steps) != sorted(set(steps)):
        problems.append(
            f"canary-steps: {text[:60]!r} is not a list of percentages from 1 to 99, rising, "
            f"comma-separated (at most {MAX_STEPS}), e.g. 5,25"
        )
        return ()
    return steps


def prometheus_problem(url: str, token: str) -> str:
    """Why ``url`` cannot be the Prometheus queried; "" when it can. The URL may be a secret:
    the message never quotes it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not host or len(url) > 2048:
        return "is not an http(s) URL"
    if re.search(r"[\s\x00-\x1f\x7f]", url) or parts.query or parts.fragment:
        return "must be a base URL: no spaces, query or fragment"
    if parts.username or parts.password:
        return "must not carry credentials (use analysis-token)"
    if token and parts.scheme == "http" and host not in _LOOPBACK:
        return "must use https with analysis-token (the token would travel in clear)"
    return ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _metric(index: int, raw: Any, problems: list[str]) -> Metric | None:
    where = f"analysis: metrics[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where} is not an object")
        return None
    unknown = sorted(set(raw) - {"name", "query", "max", "min"})
    name, query = raw.get("name"), raw.get("query")
    bounds = [key for key in ("max", "min") if key in raw]
    found = []
    if unknown:
        found.append(f"unknown key(s) {', '.join(map(repr, unknown))}")
    if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
        found.append("name must be a lowercase name (a letter, then letters, digits or '-')")
    if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY:
        found.append(f"query must be a PromQL expression of at most {MAX_QUERY} characters")
    elif _QUERY_CONTROLS.search(query) or "${{" in query:
        found.append("query must not hold control characters or ${{")
    if len(bounds) != 1 or _number(raw[bounds[0]]) is None:
        found.append("needs exactly one bound, max or min, a finite number")
    problems += [f"{where}: {problem}" for problem in found]
    if found:
        return None
    return Metric(str(name), str(query), bounds[0], float(raw[bounds[0]]))


def _refuse_constant(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _prometheus(given: Any, url: str, token: str, problems: list[str]) -> str:
    """The Prometheus URL, from analysis or (kept in a secret) from analysis-url."""
    if url and given:
        problems.append("analysis: give the Prometheus URL in analysis or analysis-url, not both")
        return ""
    prometheus = url or given
    if not isinstance(prometheus, str) or not prometheus:
        problems.append("analysis: prometheus (or analysis-url) is required")
        return ""
    problem = prometheus_problem(prometheus, token)
    if problem:
        problems.append(f"analysis: the Prometheus URL {problem}")
    return prometheus


def parse_analysis(text: str, token: str, url: str, problems: list[str]) -> Analysis | None:
    """The ``analysis`` input; ``url`` (the ``analysis-url`` input) replaces its prometheus."""
    try:
        raw = json.loads(text, parse_constant=_refuse_constant) if text.strip() else None
    except ValueError as error:
        problems.append(f"analysis: not JSON ({error})")
        return None
    if not isinstance(raw, dict):
        problems.append("analysis: required with strategy canary, as a JSON object")
        return None
    before = len(problems)
    unknown = sorted(str(key) for key in set(raw) - ANALYSIS_KEYS)
    if unknown:
        problems.append(f"analysis: unknown key(s) {', '.join(map(repr, unknown))}")
    prometheus = _prometheus(raw.get("prometheus"), url, token, problems)
    interval = check_duration(
        "analysis: interval", str(raw.get("interval", "1m")), 1, MAX_INTERVAL_SECONDS, problems
    )
    on_no_data = raw.get("on-no-data", "fail")
    if on_no_data not in ON_NO_DATA:
        problems.append(f"analysis: on-no-data must be one of {', '.join(ON_NO_DATA)}")
    metrics = raw.get("metrics")
    if not isinstance(metrics, list) or not 1 <= len(metrics) <= MAX_METRICS:
        problems.append(f"analysis: metrics must be a list of 1 to {MAX_METRICS} metrics")
        metrics = []
    parsed = [_metric(index, metric, problems) for index, metric in enumerate(metrics)]
    names = [metric.name for metric in parsed if metric is not None]
    if len(set(names)) != len(names):
        problems.append("analysis: metric names must be unique")
    if len(problems) > before:
        return None
    chosen = [metric for metric in parsed if metric is not None]
    return Analysis(str(prometheus), interval, str(on_no_data), tuple(chosen), token)


def _check_traffic(traffic: str, route: str, problems: list[str]) -> None:
    if traffic not in TRAFFIC:
        problems.append(f"canary-traffic: {traffic[:20]!r} is not one of {', '.join(TRAFFIC)}")
    elif traffic == "gateway" and not (_ROUTE.fullmatch(route) and len(route) <= 253):
        problems.append("canary-route: the HTTPRoute to reweight, a DNS-1123 name (gateway)")
    elif traffic == "replicas" and route:
        problems.append("canary-route: only used with canary-traffic gateway")


def parse_canary(raw: dict[str, str], mode: str, problems: list[str]) -> CanaryOptions | None:
    """The canary of ``raw`` (inputs with their defaults), None for a rolling update."""
    strategy = raw["strategy"]
    if strategy not in STRATEGIES:
        problems.append(f"strategy: {strategy[:20]!r} is not one of {', '.join(STRATEGIES)}")
        return None
    if strategy == "rolling":
        # An analysis that is silently not run would be trusted: say so instead.
        for name in ("analysis", "canary-route"):
            if raw[name]:
                problems.append(f"{name}: only used with strategy canary")
        return None
    if mode != "deploy":
        problems.append(f"strategy: canary releases a new image (mode deploy), not mode {mode}")
        return None
    token = raw["analysis-token"]
    problem = token_problem("analysis-token", token, 4096)
    if problem:
        problems.append(problem)
    traffic, route = raw["canary-traffic"], raw["canary-route"]
    _check_traffic(traffic, route, problems)
    steps = _steps(raw["canary-steps"], problems)
    pause = check_duration("canary-pause", raw["canary-pause"], 1, MAX_PAUSE_SECONDS, problems)
    analysis = parse_analysis(raw["analysis"], token, raw["analysis-url"], problems)
    if analysis is None or not steps or not pause:
        return None
    return CanaryOptions(traffic, route, steps, pause, analysis)


# Seconds a canary can add to a deploy at worst: per step its rollout, its pause, and two
# checks whose queries all run to their time limit (one begun before the pause ends, then
# the last); then bringing the canary down.
QUERY_SECONDS = 10
REMOVAL_SECONDS = 300


def canary_worst_case(steps: int, pause: int, rollout_timeout: int, metrics: int) -> int:
    per_step = rollout_timeout + pause + 2 * metrics * QUERY_SECONDS + 60
    return steps * per_step + REMOVAL_SECONDS
