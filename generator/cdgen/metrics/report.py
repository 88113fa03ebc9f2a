"""The metrics as text: ``json`` (the documented keys), ``table`` for a terminal and
``markdown`` for a job summary, each figure with its DORA performance level."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cdgen.metrics import bands
from cdgen.metrics.dora import Metrics

FORMATS = ("table", "json", "markdown")
NONE = "n/a"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    level: str | None


def render_reports(each: Sequence[Metrics], form: str, grouped: bool) -> str:
    """One report after another, in order. ``grouped`` (every service of a descriptor, however
    many) JSON: the common keys once, then ``services``, a list of each service's object."""
    if grouped and form == "json":
        first = each[0].to_json()
        common = {key: first[key] for key in ("repository", "environment", "since", "until")}
        services = [m.to_json() for m in each]
        return json.dumps({**common, "services": services}, indent=2) + "\n"
    return "\n".join(render_report(metrics, form) for metrics in each)


def render_report(metrics: Metrics, form: str) -> str:
    if form == "json":
        return json.dumps(metrics.to_json(), indent=2) + "\n"
    if form == "markdown":
        return render_markdown(metrics)
    return render_table(metrics)


def rows(metrics: Metrics) -> list[Row]:
    rate = metrics.change_failure_rate
    lead = metrics.lead_time_median
    recovery = metrics.recovery_median
    return [
        Row(
            "Deployment frequency",
            f"{metrics.per_day:.2f} a day: {metrics.successful} successful "
            f"on {_count(metrics.deploy_days, 'day')}",
            bands.frequency_level(metrics.per_day),
        ),
        Row(
            "Lead time for changes",
            f"median {duration(lead)}, p90 {duration(metrics.lead_time_p90)} "
            f"over {_count(len(metrics.lead_times), 'commit')}",
            bands.lead_time_level(lead),
        ),
        Row(
            "Change failure rate",
            f"{percent(rate)}: {metrics.failed} of {_count(metrics.total, 'deployment')} failed",
            bands.failure_rate_level(rate),
        ),
        Row(
            "Failed deployment recovery time",
            f"median {duration(recovery)}: {len(metrics.recoveries)} recovered, "
            f"{metrics.unrecovered} unrecovered",
            bands.recovery_level(recovery),
        ),
    ]


def render_table(metrics: Metrics) -> str:
    header = Row("metric", "value", None)
    table = [header, *rows(metrics)]
    width_metric = max(len(row.metric) for row in table)
    width_value = max(len(row.value) for row in table)
    lines = [
        f"DORA metrics for {metrics.repository}{_of_service(metrics)}, "
        f"environment {metrics.environment}",
        _span(metrics),
        "",
    ]
    for row in table:
        level = "DORA level" if row is header else (row.level or NONE)
        line = f"{row.metric:<{width_metric}}  {row.value:<{width_value}}  {level}"
        lines.append(line.rstrip())
    lines += ["", _citation()]
    return "\n".join(lines) + "\n"


def render_markdown(metrics: Metrics) -> str:
    lines = [
        f"## DORA metrics: {escape(metrics.repository)}{escape(_of_service(metrics))}, "
        f"{escape(metrics.environment)}",
        "",
        _span(metrics) + ".",
        "",
        "| Metric | Value | DORA level |",
        "| --- | --- | --- |",
    ]
    for row in rows(metrics):
        level = row.level.capitalize() if row.level else NONE
        lines.append(f"| {row.metric} | {row.value} | {level} |")
    lines += ["", f"Levels from {bands.PUBLISHER}'s [{bands.EDITION}]({bands.URL})."]
    return "\n".join(lines) + "\n"


def _of_service(metrics: Metrics) -> str:
    return "" if metrics.service is None else f", service {metrics.service}"


def _span(metrics: Metrics) -> str:
    window = metrics.window
    last = window.until - timedelta(days=1)
    days = _count(window.days, "day")
    return f"{window.since.isoformat()} to {last.isoformat()} ({days}, UTC)"


def _citation() -> str:
    return f"Levels from {bands.PUBLISHER}'s {bands.EDITION} ({bands.URL})."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def duration(seconds: float | None) -> str:
    """``2h 10m``: the two largest units, rounded to the second."""
    if seconds is None:
        return NONE
    sign = "-" if seconds < 0 else ""
    left = round(abs(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, left = divmod(left, size)
        if amount or parts:
            parts.append(f"{amount}{unit}")
    shown = [part for part in parts[:2] if not part.startswith("0")] or ["0s"]
    return sign + " ".join(shown)


def percent(rate: float | None) -> str:
    return NONE if rate is None else f"{rate * 100:.1f}%"


def escape(text: str) -> str:
    """Text shown literally in GitHub-flavoured markdown, table cells included."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)
