"""The model of an environment's canary: its steps and the analysis the deploy action gets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdgen.deploy.canary_options import canary_worst_case
from cdgen.deploy.durations import parse_duration
from cdgen.resources import schema_defaults


@dataclass(frozen=True)
class Metric:
    name: str
    query: str
    bound: str  # max | min
    limit: float


@dataclass(frozen=True)
class Canary:
    traffic: str
    route: str | None
    steps: tuple[int, ...]
    pause: str
    prometheus: str | None
    prometheus_secret: str | None
    token_secret: str | None
    interval: str
    on_no_data: str
    metrics: tuple[Metric, ...]

    @property
    def steps_text(self) -> str:
        return ",".join(str(step) for step in self.steps)

    @property
    def analysis_json(self) -> str:
        """The action's `analysis` input: JSON, indented for the reader of the workflow, ASCII
        only (every other character escaped), so it sits safely in a YAML block scalar."""
        analysis: dict[str, Any] = {"prometheus": self.prometheus} if self.prometheus else {}
        analysis.update({"interval": self.interval, "on-no-data": self.on_no_data})
        analysis["metrics"] = [
            {"name": m.name, "query": m.query, m.bound: m.limit} for m in self.metrics
        ]
        return json.dumps(analysis, indent=2, ensure_ascii=True)

    def worst_case_seconds(self, rollout_timeout: int) -> int:
        """What the canary adds to a deploy at worst: the engine's own reckoning."""
        return canary_worst_case(
            len(self.steps), parse_duration(self.pause) or 0, rollout_timeout, len(self.metrics)
        )


def build_canary(raw: dict[str, Any]) -> Canary:
    c = {**schema_defaults("environments", "[]", "canary"), **raw}
    a = {**schema_defaults("environments", "[]", "canary", "analysis"), **raw["analysis"]}
    metrics = tuple(
        Metric(str(m["name"]), str(m["query"]), bound, m[bound])
        for m in a["metrics"]
        for bound in ("max", "min")
        if bound in m
    )
    return Canary(
        traffic=str(c["traffic"]),
        route=c["route"],
        steps=tuple(int(step) for step in c["steps"]),
        pause=str(c["pause"]),
        prometheus=a["prometheus"],
        prometheus_secret=a["prometheus-secret"],
        token_secret=a["token-secret"],
        interval=str(a["interval"]),
        on_no_data=str(a["on-no-data"]),
        metrics=metrics,
    )
